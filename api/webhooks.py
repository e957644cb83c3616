"""``/webhooks``: subscriptions and the delivery log.

``POST /webhooks`` 201: ``{"url", "events"?, "sender"?}`` -> the subscription with its
``secret``, shown this once only. ``GET /webhooks`` 200 lists subscriptions (never secrets);
``GET``/``DELETE /webhooks/{id}`` 200/204, or 404. ``GET /webhooks/deliveries`` 200 pages the
delivery log (filters ``transactionId``, ``eventType``, ``status``, ``subscriptionId``;
``limit``, ``cursor``); ``GET /webhooks/deliveries/{id}`` 200; ``POST
/webhooks/deliveries/{id}/redeliver`` 202 starts a new attempt sequence (409 while pending).
Errors are ``KvsignerError``s; the app maps them to ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from api.body import read_json_object
from api.context import services
from api.query import check_params, parse_limit
from worker.domain.errors import KvsignerError, ValidationError
from worker.domain.requests import parse_address
from worker.webhooks.deliveries import STATUSES
from worker.webhooks.delivery_log import DeliveryFilter, list_deliveries, redeliver
from worker.webhooks.events import EVENT_TYPES
from worker.webhooks.runtime import Webhooks, webhooks_for
from worker.webhooks.ssrf import check_webhook_url

blueprint = Blueprint("webhooks", __name__)

_SUB_RE = re.compile(r"^sub_[0-9a-f]{24}$")
_DLV_RE = re.compile(r"^dlv_[0-9a-f]{24}$")
_TX_RE = re.compile(r"^[0-9a-f]{32}$")
SUBSCRIPTION_FIELDS = frozenset({"url", "events", "sender"})
LIST_PARAMS = frozenset({"transactionId", "eventType", "status", "subscriptionId", "limit",
                         "cursor"})
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def _webhooks() -> Webhooks:
    return webhooks_for(services())


def _parse_events(value: Any) -> list[str]:
    if value is None:
        return list(EVENT_TYPES)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v in EVENT_TYPES for v in value)):
        raise ValidationError("invalid_field", "`events` must be a non-empty list of: "
                              + ", ".join(EVENT_TYPES))
    return list(dict.fromkeys(value))


@blueprint.post("/webhooks")
def create_subscription() -> tuple[Response, int]:
    body = read_json_object(request, services().settings.api_max_body_bytes)
    unknown = sorted(set(body) - SUBSCRIPTION_FIELDS)
    if unknown:
        raise ValidationError("invalid_field", f"unknown field(s): {', '.join(unknown)}")
    url = body.get("url")
    if not isinstance(url, str):
        raise ValidationError("invalid_field", "`url` must be an http(s) URL")
    url = check_webhook_url(url, services().settings, field="url")
    events = _parse_events(body.get("events"))
    sender = None if body.get("sender") is None else parse_address(body["sender"], "sender")
    sub = _webhooks().subscriptions.create(url, events, sender)
    response = jsonify(sub.to_api(with_secret=True))
    response.headers["Location"] = f"/webhooks/{sub.id}"
    return response, 201


@blueprint.get("/webhooks")
def list_subscriptions() -> Response:
    return jsonify({"subscriptions": [s.to_api() for s in _webhooks().subscriptions.all()]})


@blueprint.get("/webhooks/<sub_id>")
def get_subscription(sub_id: str) -> Response:
    sub = _webhooks().subscriptions.get(sub_id) if _SUB_RE.match(sub_id) else None
    if sub is None:
        raise KvsignerError("not_found", "no such webhook subscription")
    return jsonify(sub.to_api())


@blueprint.delete("/webhooks/<sub_id>")
def delete_subscription(sub_id: str) -> tuple[str, int]:
    if not (_SUB_RE.match(sub_id) and _webhooks().subscriptions.delete(sub_id)):
        raise KvsignerError("not_found", "no such webhook subscription")
    return "", 204


def _delivery_query(args: MultiDict[str, str]) -> tuple[DeliveryFilter, int, str | None]:
    """Raises ``ValidationError('invalid_field')`` for an unknown, repeated or malformed
    parameter (a misspelt filter must not silently list everything)."""
    check_params(args, LIST_PARAMS, {
        "transactionId": (_TX_RE.match, "a transaction id"),
        "subscriptionId": (_SUB_RE.match, "a subscription id"),
        "eventType": (lambda v: v in EVENT_TYPES, "one of " + ", ".join(EVENT_TYPES)),
        "status": (lambda v: v in STATUSES, "one of " + ", ".join(STATUSES)),
    })
    limit = parse_limit(args, DEFAULT_LIMIT, MAX_LIMIT)
    flt = DeliveryFilter(args.get("transactionId"), args.get("eventType"),
                         args.get("status"), args.get("subscriptionId"))
    return flt, limit, args.get("cursor") or None


@blueprint.get("/webhooks/deliveries")
def list_delivery_log() -> Response:
    flt, limit, cursor = _delivery_query(request.args)
    page = list_deliveries(_webhooks().deliveries, flt, limit, cursor)
    return jsonify({"deliveries": [d.to_api() for d in page.deliveries],
                    "nextCursor": page.next_cursor})


@blueprint.get("/webhooks/deliveries/<delivery_id>")
def get_delivery(delivery_id: str) -> Response:
    found = _webhooks().deliveries.get(delivery_id) if _DLV_RE.match(delivery_id) else None
    if found is None:
        raise KvsignerError("not_found", "no such delivery")
    return jsonify(found.to_api())


@blueprint.post("/webhooks/deliveries/<delivery_id>/redeliver")
def redeliver_delivery(delivery_id: str) -> tuple[Response, int]:
    if not _DLV_RE.match(delivery_id):
        raise KvsignerError("not_found", "no such delivery")
    wh = _webhooks()
    delivery = redeliver(wh.deliveries, delivery_id)
    # If the broker is down the delivery is still due, and the sweep queues it.
    wh.dispatcher.kick(delivery.tx_id, delivery.target)
    return jsonify(delivery.to_api()), 202

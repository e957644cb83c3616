"""The ``/webhooks`` part of the OpenAPI document: subscriptions and the delivery log."""

from __future__ import annotations

from typing import Any

from api.openapi_parts import JSON, body, errors, operation, query
from api.openapi_schemas import Schema, nullable, obj, ref
from worker.webhooks.deliveries import STATUSES
from worker.webhooks.events import EVENT_TYPES

_STR = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_EVENTS = {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}}

WEBHOOK_SCHEMAS: dict[str, Schema] = {
    "SubscriptionRequest": obj({
        "url": {"type": "string", "format": "uri", "description": "http(s) receiver; must "
                "not point at a loopback, private, link-local or metadata address unless "
                "KVSIGNER_WEBHOOK_ALLOW admits it."},
        "events": {**_EVENTS, "description": "Event types to receive (default: all)."},
        "sender": {**ref("Address"), "description": "Only transactions from this sender."},
    }, ["url"], closed=True),
    "Subscription": obj({
        "id": {"type": "string", "pattern": "^sub_[0-9a-f]{24}$"},
        "url": _STR, "events": _EVENTS, "sender": nullable(ref("Address")),
        "createdAt": _TIME,
        "secret": {"type": "string", "description": "`whsec_` signing secret (Standard "
                   "Webhooks); only in the response to POST /webhooks."},
    }, ["id", "url", "events", "createdAt"]),
    "SubscriptionList": obj({"subscriptions": {"type": "array",
                                               "items": ref("Subscription")}}),
    "DeliveryAttempt": obj({"at": _TIME, "round": {"type": "integer"},
                            "statusCode": nullable({"type": "integer"}),
                            "error": nullable(_STR), "durationMs": {"type": "integer"}}),
    "Delivery": obj({
        "id": {"type": "string", "pattern": "^dlv_[0-9a-f]{24}$"},
        "eventId": _STR, "eventType": {"type": "string", "enum": list(EVENT_TYPES)},
        "transactionId": _STR, "subscriptionId": nullable(_STR), "url": _STR,
        "status": {"type": "string", "enum": list(STATUSES)},
        "failureReason": nullable(_STR), "attemptCount": {"type": "integer"},
        "attempts": {"type": "array", "items": ref("DeliveryAttempt")},
        "nextAttemptAt": nullable(_TIME), "createdAt": _TIME, "updatedAt": _TIME,
    }, ["id", "eventId", "eventType", "transactionId", "status"]),
    "DeliveryList": obj({"deliveries": {"type": "array", "items": ref("Delivery")},
                         "nextCursor": nullable(_STR)}),
}

_SUB_ID = {"name": "sub_id", "in": "path", "required": True, "schema": _STR,
           "description": "Subscription id (`sub_...`)."}
_DLV_ID = {"name": "delivery_id", "in": "path", "required": True, "schema": _STR,
           "description": "Delivery id (`dlv_...`)."}

WEBHOOK_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/webhooks": {
        "post": operation(
            "createWebhook", "webhooks", "Subscribe a URL to transaction events",
            description="The response carries the subscription's signing secret, shown this "
                        "once. Deliveries are signed per Standard Webhooks (`webhook-id`, "
                        "`webhook-timestamp`, `webhook-signature`).",
            request={"required": True, "content": {JSON: {
                "schema": ref("SubscriptionRequest")}}},
            responses={"201": body("Subscription", "Created, with its secret."),
                       **errors({400: "invalid_json, invalid_field, invalid_address, "
                                      "webhook_url_forbidden",
                                 415: "unsupported_media_type"})}),
        "get": operation("listWebhooks", "webhooks", "All subscriptions (without secrets)",
                         responses={"200": body("SubscriptionList", "Every subscription.")}),
    },
    "/webhooks/{sub_id}": {
        "get": operation("getWebhook", "webhooks", "One subscription", parameters=[_SUB_ID],
                         responses={"200": body("Subscription", "The subscription."),
                                    **errors({404: "not_found"})}),
        "delete": operation("deleteWebhook", "webhooks", "Remove a subscription",
                            description="Its pending deliveries fail with a reason.",
                            parameters=[_SUB_ID],
                            responses={"204": {"description": "Removed."},
                                       **errors({404: "not_found"})}),
    },
    "/webhooks/deliveries": {
        "get": operation(
            "listDeliveries", "webhooks", "The delivery log, newest first",
            parameters=[
                query("transactionId", "Only this transaction.", _STR),
                query("eventType", "Only this event type.",
                      {"type": "string", "enum": list(EVENT_TYPES)}),
                query("status", "Only this delivery status.",
                      {"type": "string", "enum": list(STATUSES)}),
                query("subscriptionId", "Only this subscription.", _STR),
                query("limit", "Page size (1-200, default 50).",
                      {"type": "integer", "minimum": 1, "maximum": 200}),
                query("cursor", "`nextCursor` of the previous page.", _STR),
            ],
            responses={"200": body("DeliveryList", "One page."),
                       **errors({400: "invalid_field, invalid_cursor"})}),
    },
    "/webhooks/deliveries/{delivery_id}": {
        "get": operation("getDelivery", "webhooks", "One delivery with every attempt",
                         parameters=[_DLV_ID],
                         responses={"200": body("Delivery", "The delivery."),
                                    **errors({404: "not_found"})}),
    },
    "/webhooks/deliveries/{delivery_id}/redeliver": {
        "post": operation("redeliver", "webhooks", "Send a delivered or failed event again",
                          description="A new attempt sequence with the same event id, so "
                                      "receivers can de-duplicate.",
                          parameters=[_DLV_ID],
                          responses={"202": body("Delivery", "Queued again."),
                                     **errors({404: "not_found",
                                               409: "delivery_in_progress"})}),
    },
}

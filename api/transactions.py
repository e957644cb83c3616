"""``/transactions``: submit, fetch and list transactions.

``POST`` answers 202 with the new ``queued`` record and ``Location``; repeating it with the
same ``Idempotency-Key`` and body answers 200 with the original record and
``Idempotent-Replayed: true`` (nothing is stored or enqueued again); the same key with
another body answers 409 ``idempotency_conflict``.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request

from api.body import read_json_object
from api.context import api_context, services
from api.listing import parse_list_query
from worker.cancel import cancel_transaction
from worker.domain.errors import KvsignerError
from worker.store.listing import list_page
from worker.submit import submit_transaction

bp = Blueprint("transactions", __name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


@bp.post("/transactions")
def create_transaction() -> tuple[Response, int]:
    body = read_json_object(request, services().settings.api_max_body_bytes)
    record, created = submit_transaction(
        services(), body, request.headers.get(IDEMPOTENCY_HEADER),
        enqueue=api_context().enqueue)
    response = jsonify(record.to_api())
    response.headers["Location"] = f"/transactions/{record.id}"
    if not created:
        response.headers[REPLAYED_HEADER] = "true"
    return response, 202 if created else 200


@bp.get("/transactions/<tx_id>")
def get_transaction(tx_id: str) -> Response:
    # A malformed id cannot exist: answer without a Redis round trip.
    record = services().store.get(tx_id) if _ID_RE.match(tx_id) else None
    if record is None:
        raise KvsignerError("not_found", "no such transaction")
    return jsonify(record.to_api())


@bp.post("/transactions/<tx_id>/cancel")
def cancel(tx_id: str) -> tuple[Response, int]:
    if not _ID_RE.match(tx_id):
        raise KvsignerError("not_found", "no such transaction")
    return jsonify(cancel_transaction(services(), tx_id).to_api()), 202


@bp.get("/transactions")
def list_transactions() -> Response:
    query = parse_list_query(request.args)
    page = list_page(services().store, query.sender, query.status, query.limit, query.cursor)
    return jsonify({"transactions": [r.to_api() for r in page.records],
                    "nextCursor": page.next_cursor})

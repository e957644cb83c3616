"""``POST /rpc``: Ethereum JSON-RPC over HTTP (see ``worker.rpc``).

JSON-RPC errors are JSON-RPC responses with HTTP 200, as a node answers them; only a body
that cannot be a JSON-RPC request at all gets another status: 415 for a content type other
than ``application/json`` (which also keeps web pages from posting here with a plain form,
since a cross-site ``application/json`` POST needs a CORS preflight that this API does not
grant) and 413 for a body over ``KVSIGNER_API_MAX_BODY_BYTES``. A body of notifications
only answers 204.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.context import api_context
from worker.rpc.endpoint import build_dispatcher
from worker.rpc.errors import INTERNAL_ERROR, INVALID_REQUEST, RpcError, error_response

log = logging.getLogger(__name__)
blueprint = Blueprint("rpc", __name__)


def rpc_error(status: int, code: int, message: str) -> Response:
    body = json.dumps(error_response(None, RpcError(code, message)))
    return Response(body, status=status, mimetype="application/json")


def _read_body(limit: int) -> bytes | None:
    """The body, or ``None`` when it exceeds ``limit`` bytes (declared or streamed)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        body = request.stream.read(limit + 1)
    except RequestEntityTooLarge:  # a chunked body past the app's MAX_CONTENT_LENGTH
        return None
    return None if len(body) > limit else body


@blueprint.post("/rpc")
def rpc() -> Response:
    if request.mimetype != "application/json":
        return rpc_error(415, INVALID_REQUEST, "the body must be application/json")
    try:
        ctx = api_context()
        body = _read_body(ctx.services.settings.api_max_body_bytes)
        if body is None:
            return rpc_error(413, INVALID_REQUEST, "the body is larger than this API accepts")
        text = build_dispatcher(ctx.services, ctx.enqueue).handle_text(body)
    except Exception:
        # The dispatcher answers every request itself; this is a bug or a lost client.
        log.exception("POST /rpc failed")
        return rpc_error(500, INTERNAL_ERROR, "internal error; see the service logs")
    if text is None:
        return Response(status=204)
    return Response(text, mimetype="application/json")

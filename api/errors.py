"""The one place where errors become HTTP responses.

Every error a client can see is ``{"error": {"code", "message"}}`` (plus ``details`` when the
error carries any), with ``code`` one of ``worker.domain.errors.ERROR_CODES``:

* ``KvsignerError``: the status declared for its code, its own message (error messages are
  written never to hold secrets).
* werkzeug's HTTP errors (unknown route, wrong method, body too large, ...): a fixed code per
  status from ``HTTP_CODES``; the response keeps werkzeug's headers such as ``Allow``.
* anything else: 500 ``internal_error`` with a generic message. The traceback goes to the
  log only, since exception text may quote URLs, tokens or request data.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from worker.domain.errors import ERROR_CODES, KvsignerError

log = logging.getLogger(__name__)

#: werkzeug status -> our stable code. A 400 from werkzeug only arises while reading the
#: body in this API, so it means the body could not be parsed.
HTTP_CODES: dict[int, str] = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}

#: Messages for the werkzeug errors: short and free of request data.
HTTP_MESSAGES: dict[str, str] = {
    "invalid_json": "the body is not valid JSON",
    "not_found": "no such resource",
    "method_not_allowed": "the endpoint does not accept this method",
    "body_too_large": "the body is larger than this API accepts",
    "unsupported_media_type": "the body must be application/json",
}

#: Headers of a werkzeug error worth passing on to the client.
_KEPT_HEADERS = ("Allow", "Retry-After")


def error_response(code: str, message: str,
                   status: int | None = None) -> tuple[Response, int]:
    """A JSON error body for ``code`` with ``status`` (default: the code's declared one)."""
    body = {"code": code, "message": message}
    return jsonify({"error": body}), status or ERROR_CODES[code].http_status


def _kvsigner_error(exc: KvsignerError) -> tuple[Response, int]:
    if exc.http_status >= 500:
        log.warning("request failed: %s: %s", exc.code, exc.message)
    return jsonify({"error": exc.to_dict()}), exc.http_status


def _http_error(exc: HTTPException) -> BaseResponse | tuple[Response, int]:
    status = exc.code or 500
    if status < 400:  # routing redirects are not errors
        return exc.get_response()
    if status >= 500:
        log.error("HTTP %d raised inside the app", status, exc_info=exc)
        code, message = "internal_error", "internal error"
    else:
        # A 4xx werkzeug raises without a code of ours keeps its status; the closest
        # declared code is invalid_field (the request, not the server, is at fault).
        code = HTTP_CODES.get(status, "invalid_field")
        message = HTTP_MESSAGES.get(code, exc.name.lower())
    response, _ = error_response(code, message, status)
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response, status


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return error_response("internal_error", "internal error; see the service logs")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers above on ``app`` (Flask picks the most specific class)."""
    app.register_error_handler(KvsignerError, _kvsigner_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

"""Request ids, the request's logging context, and one access-log line per request.

Every request gets an id: the caller's ``X-Request-Id`` when it is 1-64 characters of
``[A-Za-z0-9._-]`` (anything else is ignored, never echoed), otherwise a new random one. The
id is bound to ``worker.context.request_id`` for the whole request (so every log line and
every stored transaction names it), echoed in the ``X-Request-Id`` response header, and the
workers carry it on from the transaction record.

The access line (logger ``kvsigner.api.access``, INFO; DEBUG for the health probes) holds
method, path (without query string), status, duration and, when the request concerned one
transaction, its ``tx_id``. Headers are never logged, so credentials cannot leak from here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token
from typing import Any

from flask import Flask, Response, g, request

from worker import context

log = logging.getLogger("kvsigner.api.access")

HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_TX_LOCATION = re.compile(r"^/transactions/([0-9a-f]{32})$")
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


def request_id_from(header: str | None) -> str:
    """``header`` when it is a valid request id, else a new random one (32 hex chars)."""
    if header is not None and _VALID_ID.match(header):
        return header
    return uuid.uuid4().hex


def bind(var: ContextVar[Any], value: Any) -> None:
    """Set ``var`` for the rest of this request; ``_end`` restores it."""
    tokens: list[tuple[ContextVar[Any], Token[Any]]] = g.setdefault("kvs_tokens", [])
    tokens.append((var, var.set(value)))


def _begin() -> None:
    g.kvs_started = time.monotonic()
    g.kvs_request_id = request_id_from(request.headers.get(HEADER))
    bind(context.request_id, g.kvs_request_id)


def _tx_id(response: Response) -> str | None:
    view_args = request.view_args or {}
    if isinstance(view_args.get("tx_id"), str):
        return str(view_args["tx_id"])
    match = _TX_LOCATION.match(response.headers.get("Location", ""))
    return match.group(1) if match else None


def _finish(response: Response) -> Response:
    request_id = g.get("kvs_request_id")
    if request_id:
        response.headers[HEADER] = request_id
    started = g.get("kvs_started")
    elapsed_ms = round((time.monotonic() - started) * 1000, 1) if started else None
    fields: dict[str, Any] = {"method": request.method, "path": request.path,
                              "status": response.status_code, "duration_ms": elapsed_ms,
                              "remote_addr": request.remote_addr}
    tx_id = _tx_id(response)
    if tx_id:
        fields["tx_id"] = tx_id
    level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
    log.log(level, "%s %s %d", request.method, request.path, response.status_code,
            extra=fields)
    return response


def _end(_exc: BaseException | None) -> None:
    # Restore in reverse order, so a thread reused for the next request starts clean.
    for var, token in reversed(g.pop("kvs_tokens", [])):
        var.reset(token)


def install(app: Flask) -> None:
    """Bind request ids and log each request on ``app``. Install before any hook that
    may answer early (authentication), so its answers carry the id too."""
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)

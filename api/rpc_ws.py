"""``/ws``: Ethereum JSON-RPC over WebSocket, with ``eth_subscribe`` relayed to the node.

The same methods as ``POST /rpc`` (``worker.rpc.ws_session``). The handshake is refused
with 403 when it carries an ``Origin`` header not listed in ``KVSIGNER_RPC_WS_ORIGINS``:
browsers send one on every WebSocket and do not apply CORS to them, so without this check
any web page open on an operator's machine could ask the signer to send transactions.
Programs (web3.py, ethers in Node, curl) send no ``Origin``. A plain HTTP GET answers 426.

Served by werkzeug's threaded development server or gunicorn's ``gthread`` workers
(``simple_websocket`` takes the socket over); every open connection holds one thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from simple_websocket import Server

from api.context import api_context
from api.rpc import rpc_error
from worker.auth import policy
from worker.auth.keys import ApiKey
from worker.rpc.endpoint import build_dispatcher
from worker.rpc.errors import INVALID_REQUEST
from worker.rpc.subscriptions import node_ws_url
from worker.rpc.ws_session import WsSession

log = logging.getLogger(__name__)
blueprint = Blueprint("rpc_ws", __name__)

#: Seconds between pings to the client, so dead clients (and their node sockets) are
#: noticed and closed.
PING_INTERVAL = 25.0


class _SocketTaken(Response):
    """Returned once the WebSocket has ended: the socket belonged to the WebSocket, so no
    HTTP response may follow. gunicorn is told so by ``StopIteration``; werkzeug writes
    into the closed socket and drops the error."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if self.mode == "gunicorn":
            raise StopIteration()
        return super().__call__(environ, start_response)


def origin_allowed(origin: str | None, allowed: str) -> bool:
    """No ``Origin`` (a program, not a browser) or one listed in ``allowed`` (comma-separated
    origins such as ``https://app.example.com``; ``*`` allows every origin)."""
    if origin is None:
        return True
    entries = {o.strip().rstrip("/").lower() for o in allowed.split(",") if o.strip()}
    return "*" in entries or origin.rstrip("/").lower() in entries


def message_guard(key: ApiKey | None) -> Callable[[Any], str | None] | None:
    """For a key limited to reading or to some senders, the check every message on the
    socket must pass (the same rules as POST /rpc); None for an unlimited key."""
    if key is None or not (key.read_only or key.senders):
        return None
    return lambda payload: policy.rpc_refusal(key, payload)


@blueprint.route("/ws", websocket=True)
def websocket() -> Response:
    ctx = api_context()
    settings = ctx.services.settings
    if not origin_allowed(request.headers.get("Origin"),
                          settings.rpc_ws_origins):
        return Response(json.dumps({"error": {
            "code": "forbidden_origin", "message": "WebSocket connections from web pages are "
            "refused unless their origin is listed in KVSIGNER_RPC_WS_ORIGINS"}}),
            status=403, mimetype="application/json")
    try:
        conn = Server.accept(request.environ, ping_interval=PING_INTERVAL,
                             max_message_size=settings.api_max_body_bytes)
    except Exception as exc:
        log.info("WebSocket handshake failed: %s", type(exc).__name__)
        return rpc_error(400, INVALID_REQUEST, "WebSocket handshake failed")
    enqueue = ctx.enqueue
    guard = message_guard(policy.current_key.get())
    try:
        WsSession(conn, lambda extra: build_dispatcher(ctx.services, enqueue, extra, guard),
                  node_ws_url(settings.node_url, settings.node_ws_url),
                  settings.node_timeout).run()
    except Exception:
        log.exception("WebSocket session failed")
    _end(conn)
    return _SocketTaken(conn.mode)


def _end(conn: Server) -> None:
    """Send a close frame if none was exchanged yet, then shut the TCP connection down.

    The shutdown matters: the server still holds file objects of the socket (werkzeug's
    rfile/wfile), so ``close()`` alone would leave the connection open and the client
    waiting for it to end.
    """
    try:
        conn.close()
    except Exception as exc:
        log.debug("close frame not sent: %s", type(exc).__name__)
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_RDWR)


@blueprint.get("/ws")
def websocket_over_http() -> Response:
    response = rpc_error(426, INVALID_REQUEST, "/ws speaks JSON-RPC over WebSocket; use "
                         "POST /rpc for plain HTTP")
    response.headers["Upgrade"] = "websocket"
    return response


"""``eth_subscribe``/``eth_unsubscribe`` relayed over a WebSocket of the node.

Each client WebSocket gets its own node WebSocket, opened at its first ``eth_subscribe`` and
closed with it, so the node's subscription ids are the client's and nothing is shared
between clients. Subscribe and unsubscribe requests go to the node with ids of this relay's
own; the node's answers (results and errors alike) come back as the client's answer.
Notifications (``eth_subscription``) are passed to ``deliver`` exactly as the node sent them.

A notification can reach the relay before the client has been sent the answer naming its
subscription; such notifications are held until ``release`` is called with that answer, so
a client never sees a subscription id before its ``eth_subscribe`` result. If the node's
socket closes on its own, ``on_lost`` is called: the subscriptions are gone and the client
must reconnect.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from worker.rpc.errors import SERVER_ERROR, RpcError
from worker.rpc.methods import Handler

log = logging.getLogger(__name__)

#: Largest message accepted from the node (a logs notification or a full-transaction header).
NODE_MAX_MESSAGE = 16 * 1024 * 1024
MAX_SUBSCRIPTIONS = 100
#: Notifications held per subscription until its id has reached the client.
MAX_HELD = 256


def node_ws_url(node_url: str, configured: str | None = None) -> str:
    """``configured`` if set, else the HTTP node URL with http(s) turned into ws(s)."""
    if configured:
        return configured
    scheme, rest = node_url.split("://", 1) if "://" in node_url else ("http", node_url)
    return {"http": "ws", "https": "wss"}.get(scheme.lower(), scheme) + "://" + rest


def _shown(url: str) -> str:
    """Scheme and host only: provider URLs often carry an API key in the path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _unavailable(message: str) -> RpcError:
    return RpcError(SERVER_ERROR, message, {"code": "node_unavailable"})


@dataclass
class _Call:
    method: str
    done: threading.Event = field(default_factory=threading.Event)
    response: dict[str, Any] | None = None
    abandoned: bool = False


class NodeSubscriptions:
    """The relay for one client connection. Thread-safe."""

    def __init__(self, url: str, deliver: Callable[[str], None], on_lost: Callable[[], None],
                 timeout: float = 10.0, max_subscriptions: int = MAX_SUBSCRIPTIONS) -> None:
        self.url = url
        self.deliver = deliver
        self.on_lost = on_lost
        self.timeout = timeout
        self.max_subscriptions = max_subscriptions
        self._lock = threading.Lock()
        self._conn: ClientConnection | None = None
        self._closing = False
        self._next_id = 0
        self._pending: dict[int, _Call] = {}
        self._held: dict[str, list[str]] = {}
        self._released: set[str] = set()

    def methods(self) -> dict[str, Handler]:
        return {"eth_subscribe": self.subscribe, "eth_unsubscribe": self.unsubscribe}

    def subscribe(self, params: list[Any]) -> Any:
        """The node's subscription id; its errors come back as they are."""
        with self._lock:
            if len(self._held) + len(self._released) >= self.max_subscriptions:
                raise RpcError(SERVER_ERROR, f"this connection already has "
                               f"{self.max_subscriptions} subscriptions",
                               {"code": "subscription_limit"})
        return self._call("eth_subscribe", params)

    def unsubscribe(self, params: list[Any]) -> Any:
        result = self._call("eth_unsubscribe", params)
        if result is True and params and isinstance(params[0], str):
            with self._lock:
                self._released.discard(params[0])
                self._held.pop(params[0], None)
        return result

    def release(self, response: Any) -> None:
        """Deliver held notifications of the subscriptions named in ``response`` (what was
        just sent to the client) and pass later ones straight through."""
        answers = response if isinstance(response, list) else [response]
        for answer in answers:
            sub = answer.get("result") if isinstance(answer, dict) else None
            if not isinstance(sub, str):
                continue
            with self._lock:
                held = self._held.pop(sub, None)
                if held is None:
                    continue
                for text in held:
                    self._deliver(text)
                self._released.add(sub)

    def close(self) -> None:
        """Close the node socket (ends its subscriptions). Idempotent."""
        with self._lock:
            self._closing = True
            conn = self._conn
        if conn is not None:
            conn.close()

    # --- node connection ---------------------------------------------------------------
    def _connect(self) -> ClientConnection:
        with self._lock:
            if self._closing:
                raise _unavailable("the connection is closing")
            if self._conn is None:
                try:
                    self._conn = connect(self.url, open_timeout=self.timeout,
                                         max_size=NODE_MAX_MESSAGE, compression=None)
                except (OSError, WebSocketException, TimeoutError) as exc:
                    raise _unavailable(f"cannot open the node's WebSocket at "
                                       f"{_shown(self.url)}: {type(exc).__name__}") from None
                threading.Thread(target=self._read, args=(self._conn,), daemon=True,
                                 name="rpc-node-ws").start()
            return self._conn

    def _call(self, method: str, params: list[Any]) -> Any:
        conn = self._connect()
        with self._lock:
            self._next_id += 1
            call_id, call = self._next_id, _Call(method)
            self._pending[call_id] = call
        request = {"jsonrpc": "2.0", "id": call_id, "method": method, "params": params}
        try:
            conn.send(json.dumps(request))
        except (OSError, WebSocketException):
            raise _unavailable("the node's WebSocket closed") from None
        if not call.done.wait(self.timeout):
            with self._lock:
                call.abandoned = True
            raise _unavailable(f"the node did not answer {method} within {self.timeout:g} s")
        response = call.response
        if response is None:
            raise _unavailable("the node's WebSocket closed")
        error = response.get("error")
        if error is not None:
            err = error if isinstance(error, dict) else {"message": str(error)}
            code = err.get("code")
            raise RpcError(code if type(code) is int else SERVER_ERROR,
                           str(err.get("message", "")), err.get("data"))
        return response.get("result")

    def _read(self, conn: ClientConnection) -> None:
        try:
            for text in conn:
                self._on_message(text if isinstance(text, str) else text.decode())
        except (OSError, WebSocketException, UnicodeDecodeError) as exc:
            log.info("node WebSocket ended: %s", type(exc).__name__)
        with self._lock:
            lost = not self._closing
            calls, self._pending = list(self._pending.values()), {}
        for call in calls:
            call.done.set()
        if lost:
            self.on_lost()

    def _on_message(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("method") == "eth_subscription":
            self._on_notification(message, text)
            return
        call_id = message.get("id")
        if type(call_id) is not int:
            return
        with self._lock:
            call = self._pending.pop(call_id, None)
            if call is None:
                return
            sub = message.get("result")
            if call.method == "eth_subscribe" and isinstance(sub, str):
                self._held[sub] = []
            call.response = message
            orphan = call.abandoned and call.method == "eth_subscribe" and isinstance(sub, str)
        call.done.set()
        if orphan:
            # Its client got a timeout error and will never use it: cancel it at the node.
            self._unsubscribe_orphan(str(sub))

    def _on_notification(self, message: dict[str, Any], text: str) -> None:
        params = message.get("params")
        sub = params.get("subscription") if isinstance(params, dict) else None
        with self._lock:
            if sub in self._held:
                held = self._held[sub]
                if len(held) < MAX_HELD:
                    held.append(text)
                return
            if sub not in self._released:
                return
        self._deliver(text)

    def _deliver(self, text: str) -> None:
        try:
            self.deliver(text)
        except Exception as exc:
            # The client is gone; its session closes the relay.
            log.debug("notification not delivered: %s", type(exc).__name__)

    def _unsubscribe_orphan(self, sub: str) -> None:
        with self._lock:
            self._held.pop(sub, None)
            conn = self._conn
            self._next_id += 1
            call_id = self._next_id
        if conn is not None:
            with contextlib.suppress(OSError, WebSocketException):
                conn.send(json.dumps({"jsonrpc": "2.0", "id": call_id,
                                      "method": "eth_unsubscribe", "params": [sub]}))

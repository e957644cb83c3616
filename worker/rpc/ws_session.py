"""One client WebSocket speaking JSON-RPC: the same methods as ``POST /rpc``, plus
``eth_subscribe``/``eth_unsubscribe`` relayed to the node (``subscriptions``).

Each message is one JSON-RPC body (a request or a batch) answered by one message. Messages
are answered concurrently by a few threads, since one ``eth_sendTransaction`` may wait
seconds for its broadcast and must not hold up reads on the same connection; clients match
answers by id. At most ``max_inflight`` messages are in progress: past that the session
stops reading, which pushes back on the client instead of queueing without bound. Sends
are serialised with a lock (the socket is shared with relayed notifications). When the
client goes away the node socket is closed; when the node socket is lost the client is
disconnected with 1011, because its subscriptions no longer exist.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from worker.rpc.dispatch import Dispatcher
from worker.rpc.methods import Handler
from worker.rpc.subscriptions import NodeSubscriptions

log = logging.getLogger(__name__)

CLOSE_NODE_LOST = 1011
#: ``receive`` wakes up this often to check the connection: simple_websocket can miss the
#: wake-up of a close that races with a waiting ``receive`` (seen with oversized messages),
#: which would otherwise hold the connection open until the client's ping times out.
WAKE_SECONDS = 0.25


class WsConnection(Protocol):
    """The server side of a WebSocket (``simple_websocket.Server`` has this shape).
    ``receive`` waits up to ``timeout`` for the next message (``None`` when none came) and
    raises once the connection is closed; ``connected`` turns false when it is."""

    connected: bool

    def send(self, data: str) -> None: ...

    def receive(self, timeout: float | None = None) -> str | bytes | None: ...

    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


class WsSession:
    """Runs one connection until either side closes it."""

    def __init__(self, conn: WsConnection,
                 make_dispatcher: Callable[[Mapping[str, Handler]], Dispatcher],
                 node_ws_url: str, node_timeout: float = 10.0, workers: int = 4,
                 max_inflight: int = 16) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_inflight)
        self._workers = workers
        self.relay = NodeSubscriptions(node_ws_url, self.send, self._node_lost, node_timeout)
        self.dispatcher = make_dispatcher(self.relay.methods())

    def run(self) -> None:
        """Read and answer messages until the client disconnects; then close the node
        socket. In-flight work (e.g. a transaction being sent) finishes in the background;
        its answer is dropped, the transaction itself is not."""
        pool = ThreadPoolExecutor(self._workers, thread_name_prefix="rpc-ws")
        try:
            while True:
                try:
                    message = self.conn.receive(timeout=WAKE_SECONDS)
                except Exception:
                    # simple_websocket raises ConnectionClosed; any failure ends the session.
                    break
                if message is None:
                    if not getattr(self.conn, "connected", True):
                        break
                    continue
                self._slots.acquire()
                # Each answer runs with the handshake's context (API key name, request id),
                # so a transaction sent over /ws records who sent it.
                pool.submit(contextvars.copy_context().run, self._answer, message)
        finally:
            self.relay.close()
            pool.shutdown(wait=False, cancel_futures=True)

    def send(self, text: str) -> None:
        with self._send_lock:
            self.conn.send(text)

    def _answer(self, message: str | bytes) -> None:
        try:
            response = self.dispatcher.answer(message)
            if response is None:
                return
            try:
                self.send(json.dumps(response, separators=(",", ":")))
            except Exception as exc:
                log.debug("answer not sent, the client is gone: %s", type(exc).__name__)
                return
            self.relay.release(response)
        except Exception:
            log.exception("WebSocket message handling failed")
        finally:
            self._slots.release()

    def _node_lost(self) -> None:
        log.warning("node WebSocket lost; disconnecting the client")
        with self._send_lock:
            try:
                self.conn.close(CLOSE_NODE_LOST, "the node's subscription connection was "
                                "lost; reconnect and subscribe again")
            except Exception as exc:
                log.debug("close after node loss failed: %s", type(exc).__name__)

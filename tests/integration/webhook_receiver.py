"""A webhook receiver for the tests: an HTTP server on 127.0.0.1 that verifies every request
with the reference ``standardwebhooks`` package and records what it got."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from worker.webhooks.signing import generate_secret

#: The per-transaction webhook secret of the tests' settings; the receiver checks ``/tx``
#: deliveries with it.
TX_SECRET = generate_secret()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """An HTTP server on 127.0.0.1 that verifies each request with the secret of its path,
    answers 400 when verification fails, 500 for the first ``fail_first[path]`` requests of
    each event id, and 200 otherwise."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.fail_first: dict[str, int] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.answer(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        secret = self.secrets.get(handler.path, "whsec_" + "A" * 44)
        try:
            Webhook(secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self.lock:
            earlier = sum(1 for h in self.hits if h.path == handler.path
                          and h.headers.get("webhook-id") == headers.get("webhook-id"))
            status = 400 if not verified else (
                500 if earlier < self.fail_first.get(handler.path, 0) else 200)
            self.hits.append(Hit(handler.path, headers, body, verified, status))
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def accepted(self, path: str, tx_id: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path and h.answered == 200
                    and h.event["data"]["id"] == tx_id]

    def all_for(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]



@contextmanager
def running_receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.secrets["/tx"] = TX_SECRET
    try:
        yield rec
    finally:
        rec.server.shutdown()

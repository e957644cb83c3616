"""HTTPS plumbing: a threaded HTTP/1.1 keep-alive server tuned for many small requests.

Latency matters more than anything here (one SDK client signs one digest per round trip):
accepted sockets get TCP_NODELAY and every reply goes out in one ``sendall`` (headers and
body in one buffer); otherwise Nagle's algorithm and delayed ACKs add 20-40 ms per request.
The TLS handshake runs in the connection's own thread, so a slow client cannot stall
``accept``.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .app import Emulator
from .errors import VaultError
from .messages import Request, Response, error_response

log = logging.getLogger("kvsigner.keyvault_emulator")

MAX_BODY = 1 << 20
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Serves ``app`` over TLS on ``address``; one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: Emulator, context: ssl.SSLContext,
                 log_requests: bool = False) -> None:
        self.app = app
        self.context = context
        self.log_requests = log_requests
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, RequestHandler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up or failing the handshake are routine, not worth a traceback.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a ``Request`` for the app and writes its ``Response``."""

    protocol_version = "HTTP/1.1"
    server_version = "kvsigner-keyvault-emulator"
    timeout = IDLE_TIMEOUT
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.request.do_handshake()

    def handle_expect_100(self) -> bool:
        # Defer "100 Continue" until the body is really wanted, so a request refused
        # before its body is read (401, 429) never invites the client to send it.
        self._expect_continue = True
        return True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        started = time.perf_counter()
        expect_continue = getattr(self, "_expect_continue", False)
        self._expect_continue = False
        body: list[bytes] = []  # empty until read
        length = self._content_length()
        if length is None:
            self.close_connection = True
            self._send(error_response(VaultError(
                411 if "transfer-encoding" in self.headers else 400, "BadParameter",
                "A request body needs a valid Content-Length (at most 1 MiB).")), started)
            return

        def read_body() -> bytes:
            if not body:
                if expect_continue:
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body.append(self.rfile.read(length) if length else b"")
            return body[0]

        url = urlsplit(self.path)
        request = Request(
            method=self.command, path=url.path,
            segments=[unquote(part) for part in url.path.split("/")[1:]],
            query={k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            host=self.headers.get("Host") or self._local_host(),
            read_body=read_body,
        )
        try:
            response = self.server.app.handle(request)
        except Exception:
            log.exception("%s %s failed", self.command, url.path)
            response = error_response(VaultError(500, "InternalServerError",
                                                 "The emulator failed on this request."))
        unread = not body and length > 0
        if unread and expect_continue:
            self.close_connection = True  # the client may or may not send the body now
        self._send(response, started)
        if response.after is not None:
            response.after()
        if unread and not self.close_connection:
            # Discard the body after replying so the next request on this connection
            # starts at a request line, not in the middle of leftover bytes.
            self.rfile.read(length)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _local_host(self) -> str:
        host, port = self.request.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def _content_length(self) -> int | None:
        if "transfer-encoding" in self.headers:
            return None
        raw = self.headers.get("Content-Length", "0").strip()
        if not raw.isdigit() or int(raw) > MAX_BODY:
            return None
        return int(raw)

    def _send(self, response: Response, started: float) -> None:
        reason = self.responses.get(response.status, ("",))[0]
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            f"Date: {self.date_time_string()}",
            f"x-ms-request-id: {uuid.uuid4()}",
            "Cache-Control: no-cache",
        ]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        if self.server.log_requests:
            log.info("%s %s %d %.1fms", self.command, urlsplit(self.path).path,
                     response.status, (time.perf_counter() - started) * 1000)

"""The benchmark's HTTP client against a real local HTTP/1.1 server: connections are kept
and shared, a connection the server dropped while idle is replaced, errors are raised."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ops.bench.client import ApiClient, ApiError
from ops.processes import free_port

BODY = {"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "value": "1"}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.auth: list[str | None] = []
        self.answers: list[int] = []  # statuses to give first, then 202
        self.drop_after_answer = False  # close without saying so (an idle timeout)
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        json.loads(self.rfile.read(length))
        with self.server.lock:
            self.server.auth.append(self.headers.get("Authorization"))
            status = self.server.answers.pop(0) if self.server.answers else 202
        payload = json.dumps({"id": "ab" * 16} if status == 202 else
                             {"error": {"code": "x"}}).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        if self.server.drop_after_answer:
            self.close_connection = True


@pytest.fixture()
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def client(srv: Server, key: str | None = "sekret") -> ApiClient:
    return ApiClient(f"http://127.0.0.1:{srv.server_address[1]}", key)


def test_keeps_one_connection_and_sends_the_key(server: Server) -> None:
    api = client(server)
    subs = [api.submit(BODY) for _ in range(5)]
    assert [s.id for s in subs] == ["ab" * 16] * 5
    assert all(s.latency_ms > 0 and s.sender == BODY["from"] for s in subs)
    assert server.connections == 1
    assert server.auth == ["Bearer sekret"] * 5
    assert "sekret" not in repr(api)
    api.close()


def test_threads_share_the_connections(server: Server) -> None:
    api = client(server)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: api.submit(BODY), range(40)))
    opened = server.connections
    assert 1 <= opened <= 4
    with ThreadPoolExecutor(4) as pool:  # new threads, same connections
        list(pool.map(lambda _: api.submit(BODY), range(40)))
    assert server.connections == opened
    api.close()


def test_a_connection_the_server_dropped_is_replaced(server: Server) -> None:
    api = client(server)
    server.drop_after_answer = True
    api.submit(BODY)
    # The server closed the kept connection without a word: the next call must notice it
    # before sending (else the POST would fail with the connection reset).
    for _ in range(3):
        threading.Event().wait(0.05)
        api.submit(BODY)
    assert server.connections == 4
    api.close()


def test_a_429_is_waited_out_and_counted(server: Server) -> None:
    api = client(server, None)
    server.answers = [429, 429]
    assert api.submit(BODY).id == "ab" * 16
    assert api.throttled == 2
    assert server.auth == [None] * 3
    api.close()


def test_other_answers_and_no_server_raise(server: Server) -> None:
    api = client(server)
    server.answers = [500]
    with pytest.raises(ApiError) as err:
        api.submit(BODY)
    assert err.value.status == 500
    api.close()
    gone = ApiClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ConnectionError):
        gone.submit(BODY)
    with pytest.raises(ValueError):
        ApiClient("ftp://127.0.0.1:1")

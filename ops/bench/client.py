"""The kvsigner HTTP API as the benchmark's clients see it.

Keep-alive ``http.client`` connections, kept between calls in a last-in first-out stack
that every thread shares (so the connections a warm-up opened are the ones the measured run
uses): the benchmark runs on the machine it measures, so its own HTTP client is kept as
light as the standard library allows (urllib3's pool costs twice the CPU per call, a
``requests`` session several times that, and both stretch the latencies it reports). A
connection the server closed while idle (gunicorn's keep-alive timeout) is noticed before it
is used and replaced; one that fails during a request is closed and the error raised, never
retried here: the benchmark counts it. When an API key is given every call carries
``Authorization: Bearer <key>``. Unexpected answers are raised as ``ApiError`` with the
status and body.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from urllib3.util.wait import wait_for_read

MAX_THROTTLED = 30  # 429s one POST waits out before it counts as failed


class ApiError(RuntimeError):
    """The API answered with an unexpected status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"API answered {status}: {body[:300]}")
        self.status = status


@dataclass(frozen=True)
class Submitted:
    """One accepted POST: the record id, when the request started (wall clock, seconds)
    and how long the 202 took (milliseconds)."""

    id: str
    sender: str
    started_at: float
    latency_ms: float


class ApiClient:
    """Thread-safe client for one kvsigner API base URL (``http://`` or ``https://``, TLS
    verified)."""

    def __init__(self, base_url: str, api_key: str | None = None,
                 timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        parts = urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self._timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._idle: queue.LifoQueue[http.client.HTTPConnection] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self.throttled = 0

    def __repr__(self) -> str:  # the API key never appears
        return f"ApiClient({self.base!r})"

    def _take(self) -> http.client.HTTPConnection:
        """An idle connection the server has not closed (a closed keep-alive connection
        reads as readable), else a new one."""
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            if conn.sock is not None and not wait_for_read(conn.sock, 0.0):
                return conn
            self._drop(conn)
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self._timeout)
        with self._lock:
            self._open.add(conn)
        return conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def _request(self, method: str, path: str,
                 body: Any = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = self._take()
        try:
            conn.request(method, self._prefix + path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except (http.client.HTTPException, OSError) as exc:  # counted by the callers
            self._drop(conn)
            raise ConnectionError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if resp.will_close:
            self._drop(conn)
        else:
            self._idle.put(conn)
        return resp.status, resp.headers, payload

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if params:
            path += "?" + urlencode(params)
        status, _, payload = self._request("GET", path)
        if status != 200:
            raise ApiError(status, payload.decode(errors="replace"))
        return json.loads(payload)

    def accounts(self) -> list[str]:
        """Addresses of the vault's enabled accounts, in the API's order."""
        return [str(a["address"]) for a in self._get("/accounts")["accounts"]]

    def submit(self, body: dict[str, Any]) -> Submitted:
        """POST one transaction; raises ``ApiError`` unless the answer is 202.

        A 429 (the key's rate limit) is waited out as its ``Retry-After`` asks, as a real
        client would, and counted in ``throttled``; the latency includes those waits."""
        started_at = time.time()
        t0 = time.perf_counter()
        for _ in range(MAX_THROTTLED):
            status, headers, payload = self._request("POST", "/transactions", body)
            if status != 429:
                break
            with self._lock:
                self.throttled += 1
            time.sleep(float(headers.get("Retry-After") or 1))
        latency_ms = (time.perf_counter() - t0) * 1000.0
        if status != 202:
            raise ApiError(status, payload.decode(errors="replace"))
        return Submitted(str(json.loads(payload)["id"]), str(body["from"]), started_at,
                         latency_ms)

    def get(self, tx_id: str) -> dict[str, Any]:
        """The record ``GET /transactions/{id}`` returns."""
        return dict(self._get(f"/transactions/{tx_id}"))

    def newest(self, sender: str, status: str, limit: int = 1) -> list[dict[str, Any]]:
        """The sender's newest records in ``status`` (at most ``limit``)."""
        page = self._get("/transactions", {"from": sender, "status": status, "limit": limit})
        return list(page["transactions"])

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            conn.close()

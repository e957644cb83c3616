"""The kvsigner HTTP API as the benchmark's clients see it.

One urllib3 pool of keep-alive connections shared by the client threads: the benchmark
runs on the machine it measures, so its own HTTP client is kept light (a ``requests``
session costs several times the CPU per call). When an API key is given every call carries
``Authorization: Bearer <key>``. Errors are raised as ``ApiError`` with the status and body,
never retried here: the benchmark counts them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

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
    """Thread-safe client for one kvsigner API base URL."""

    def __init__(self, base_url: str, api_key: str | None = None,
                 timeout: float = 30.0, connections: int = 32) -> None:
        self.base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._pool = urllib3.PoolManager(maxsize=connections, block=False,
                                         timeout=urllib3.Timeout(total=timeout),
                                         retries=False)
        self._lock = threading.Lock()
        self.throttled = 0

    def __repr__(self) -> str:  # the API key never appears
        return f"ApiClient({self.base!r})"

    def _request(self, method: str, path: str, body: Any = None) -> urllib3.BaseHTTPResponse:
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            return self._pool.request(method, self.base + path, body=data, headers=headers)
        except urllib3.exceptions.HTTPError as exc:  # callers count OSErrors as failures
            raise ConnectionError(f"{method} {path}: {exc}") from exc

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if params:
            path += "?" + urlencode(params)
        resp = self._request("GET", path)
        if resp.status != 200:
            raise ApiError(resp.status, resp.data.decode(errors="replace"))
        return json.loads(resp.data)

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
            resp = self._request("POST", "/transactions", body)
            if resp.status != 429:
                break
            with self._lock:
                self.throttled += 1
            time.sleep(float(resp.headers.get("Retry-After") or 1))
        latency_ms = (time.perf_counter() - t0) * 1000.0
        if resp.status != 202:
            raise ApiError(resp.status, resp.data.decode(errors="replace"))
        return Submitted(str(json.loads(resp.data)["id"]), str(body["from"]), started_at,
                         latency_ms)

    def get(self, tx_id: str) -> dict[str, Any]:
        """The record ``GET /transactions/{id}`` returns."""
        return dict(self._get(f"/transactions/{tx_id}"))

    def newest(self, sender: str, status: str, limit: int = 1) -> list[dict[str, Any]]:
        """The sender's newest records in ``status`` (at most ``limit``)."""
        page = self._get("/transactions", {"from": sender, "status": status, "limit": limit})
        return list(page["transactions"])

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()

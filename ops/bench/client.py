"""The kvsigner HTTP API as the benchmark's clients see it.

One ``requests.Session`` per thread (keep-alive connections, no sharing across threads). When
an API key is given every call carries ``Authorization: Bearer <key>``. Errors are raised as
``ApiError`` with the status and body, never retried here: the benchmark counts them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

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
                 timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.throttled = 0

    def __repr__(self) -> str:  # the API key never appears
        return f"ApiClient({self.base!r})"

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self._headers)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = self._session().get(self.base + path, params=params, timeout=self.timeout)
        if resp.status_code != 200:
            raise ApiError(resp.status_code, resp.text)
        return resp.json()

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
            resp = self._session().post(self.base + "/transactions", json=body,
                                        timeout=self.timeout)
            if resp.status_code != 429:
                break
            with self._lock:
                self.throttled += 1
            time.sleep(float(resp.headers.get("Retry-After") or 1))
        latency_ms = (time.perf_counter() - t0) * 1000.0
        if resp.status_code != 202:
            raise ApiError(resp.status_code, resp.text)
        return Submitted(str(resp.json()["id"]), str(body["from"]), started_at, latency_ms)

    def get(self, tx_id: str) -> dict[str, Any]:
        """The record ``GET /transactions/{id}`` returns."""
        return dict(self._get(f"/transactions/{tx_id}"))

    def newest(self, sender: str, status: str, limit: int = 1) -> list[dict[str, Any]]:
        """The sender's newest records in ``status`` (at most ``limit``)."""
        page = self._get("/transactions", {"from": sender, "status": status, "limit": limit})
        return list(page["transactions"])

    def close(self) -> None:
        """Close every thread's session."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

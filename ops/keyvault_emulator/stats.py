"""Request counters exposed by ``GET /_admin/stats``."""

from __future__ import annotations

import threading

COUNTERS = (
    "requests",  # every request to the Key Vault API, including 401 challenges
    "unauthorized",  # 401 replies to vault requests
    "throttled",  # 429 replies of any vault operation
    "gets",  # key reads (latest or a version)
    "lists",  # list pages (keys and versions)
    "creates",  # keys created or imported, versions added
    "updates",  # key property updates
    "signs_ok",
    "signs_throttled",  # sign calls answered 429 (quota or injected)
    "signs_failed",  # sign calls answered with any other error (5xx, 403, 400, 404)
    "tokens_issued",
)


class Stats:
    """A fixed set of counters; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)

    def add(self, name: str, amount: int = 1) -> None:
        """Increase counter ``name`` (one of ``COUNTERS``; a typo raises ``KeyError``)."""
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(COUNTERS, 0)

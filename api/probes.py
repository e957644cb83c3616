"""Time-bounded dependency checks for ``/readyz`` and ``/status``.

A probe must answer quickly even when a dependency hangs, so each check runs in its own
daemon thread and the caller waits at most ``timeout`` seconds for all of them together.
Checks are single-flight per name: while one is still running (say the vault is hanging),
later callers wait for that same run instead of starting more threads, so a stuck
dependency costs one thread, not one per probe.

A failure is reported by name only: a ``KvsignerError``'s code, otherwise the exception's
class name. Exception text is never shown because it can quote URLs with credentials.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from worker.domain.errors import KvsignerError

DEFAULT_TIMEOUT = 2.0


@dataclass(frozen=True)
class CheckResult:
    """``value`` is the check's return value when ``ok``; ``error`` a code or class name."""

    ok: bool
    value: Any = None
    error: str | None = None
    ms: int = 0

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "ms": self.ms}
        if self.error is not None:
            out["error"] = self.error
        return out


def failure_name(exc: BaseException) -> str:
    """A secret-free name for ``exc``: its stable code, or its class name."""
    if isinstance(exc, KvsignerError):
        return exc.code
    return type(exc).__name__


def _run(check: Callable[[], Any], future: Future[CheckResult]) -> None:
    start = time.monotonic()
    try:
        value = check()
    except Exception as exc:  # reported through the future, never raised in the thread
        future.set_result(CheckResult(False, error=failure_name(exc), ms=_ms_since(start)))
    else:
        future.set_result(CheckResult(True, value=value, ms=_ms_since(start)))
    finally:
        # Even a BaseException must settle the flight, or the name would stay "running".
        if not future.done():
            future.set_result(CheckResult(False, error="aborted", ms=_ms_since(start)))


class Prober:
    """Runs named checks concurrently, each bounded by one shared deadline. Thread-safe."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._flights: dict[str, Future[CheckResult]] = {}

    def _flight(self, name: str, check: Callable[[], Any]) -> Future[CheckResult]:
        with self._lock:
            current = self._flights.get(name)
            if current is not None and not current.done():
                return current
            future: Future[CheckResult] = Future()
            self._flights[name] = future
        threading.Thread(target=_run, args=(check, future), name=f"probe-{name}",
                         daemon=True).start()
        return future

    def run(self, checks: Mapping[str, Callable[[], Any]]) -> dict[str, CheckResult]:
        """Run every check; never raises. A check still running at the deadline fails
        with ``error='timeout'``."""
        start = time.monotonic()
        flights = {name: self._flight(name, check) for name, check in checks.items()}
        results: dict[str, CheckResult] = {}
        for name, future in flights.items():
            remaining = max(0.0, start + self.timeout - time.monotonic())
            try:
                results[name] = future.result(timeout=remaining)
            except FutureTimeout:
                results[name] = CheckResult(False, error="timeout", ms=_ms_since(start))
        return results


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)

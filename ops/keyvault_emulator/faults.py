"""Fault injection: latency, a request quota, random throttling and random server errors.

Everything here can be set at start-up (command-line flags) and changed at runtime through
the admin endpoint. The quota is a sliding window like Key Vault's ("N weighted requests per
10 seconds"): a request beyond it gets 429 Throttled, carrying ``Retry-After`` (seconds until
the oldest counted request leaves the window) on a configurable fraction of replies, because
the real service sometimes omits it and the SDK then does not retry a POST.
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .ecdsa import HIGH_S_MODES
from .errors import VaultError, server_error, throttled


@dataclass(frozen=True)
class FaultConfig:
    """Runtime behaviour knobs; the field names are the admin API's JSON fields."""

    latency_ms: float = 0.0  # added to every sign request that is served
    latency_jitter_ms: float = 0.0  # plus uniform random 0..jitter
    quota: int = 0  # weighted vault requests per window; 0 = unlimited
    quota_window_seconds: float = 10.0
    retry_after_ratio: float = 1.0  # fraction of 429 replies that carry Retry-After
    throttle_rate: float = 0.0  # extra random 429s on sign, independent of the quota
    fail_rate: float = 0.0  # random 5xx on sign
    fail_status: int = 503
    high_s: str = "random"  # "random" | "always"
    deterministic: bool = False  # RFC 6979 nonces instead of random ones
    auth_check: bool = True  # False: any bearer token is accepted
    empty_first_page: bool = False  # listings start with an empty page that has a nextLink

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def with_changes(self, changes: dict[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied; ``ValueError`` names any bad field or value."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in fields:
                raise ValueError(f"unknown field {name!r}; known: {', '.join(sorted(fields))}")
            clean[name] = _coerce(name, fields[name].type, value)
        updated = dataclasses.replace(self, **clean)
        updated.validate()
        return updated

    def validate(self) -> None:
        """Raise ``ValueError`` when a value is out of range."""
        for name in ("retry_after_ratio", "throttle_rate", "fail_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0 or self.quota < 0:
            raise ValueError("latency_ms, latency_jitter_ms and quota must not be negative")
        if self.quota_window_seconds <= 0:
            raise ValueError("quota_window_seconds must be positive")
        if not 500 <= self.fail_status <= 599:
            raise ValueError("fail_status must be a 5xx status")
        if self.high_s not in HIGH_S_MODES:
            raise ValueError(f"high_s must be one of {', '.join(HIGH_S_MODES)}")


def _coerce(name: str, type_name: object, value: Any) -> Any:
    # Strict: JSON true is not a number and 1 is not a boolean, so typos fail loudly.
    kind = str(type_name)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a {kind}")
    if kind == "int" and isinstance(value, int):
        return value
    if kind == "float" and isinstance(value, int | float):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    raise ValueError(f"{name} must be a {kind}")


class Faults:
    """The live configuration plus the quota window; thread-safe."""

    def __init__(self, config: FaultConfig) -> None:
        config.validate()
        self._config = config
        self._lock = threading.Lock()
        self._window: deque[float] = deque()  # monotonic times of admitted requests
        self._random = random.Random()

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply ``changes`` (see ``FaultConfig.with_changes``) and return the new config.

        Changing ``quota`` or ``quota_window_seconds`` starts a fresh, empty window.
        """
        with self._lock:
            old, self._config = self._config, self._config.with_changes(changes)
            if (old.quota, old.quota_window_seconds) != (self._config.quota,
                                                         self._config.quota_window_seconds):
                self._window.clear()
            return self._config

    def _retry_after(self, seconds: float) -> int | None:
        if self._random.random() < self._config.retry_after_ratio:
            return max(1, math.ceil(seconds))
        return None

    def admit(self, weight: int = 1, now: float | None = None) -> VaultError | None:
        """Count one vault operation against the quota; a 429 error when over it."""
        with self._lock:
            config = self._config
            if config.quota <= 0:
                return None
            current = time.monotonic() if now is None else now
            while self._window and self._window[0] <= current - config.quota_window_seconds:
                self._window.popleft()
            if len(self._window) + weight > config.quota:
                wait = self._window[0] + config.quota_window_seconds - current
                return throttled(self._retry_after(wait))
            self._window.extend([current] * weight)
            return None

    def sign_fault(self) -> VaultError | None:
        """A random 429 (``throttle_rate``) or 5xx (``fail_rate``) for a sign call, or None."""
        with self._lock:
            config = self._config
            if config.throttle_rate and self._random.random() < config.throttle_rate:
                return throttled(self._retry_after(1))
            if config.fail_rate and self._random.random() < config.fail_rate:
                return server_error(config.fail_status)
            return None

    def sign_delay(self) -> float:
        """Seconds to wait before answering a sign request."""
        config = self._config
        delay = config.latency_ms
        if config.latency_jitter_ms:
            with self._lock:
                delay += self._random.uniform(0, config.latency_jitter_ms)
        return delay / 1000.0

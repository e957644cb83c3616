"""The webhook settings, read from ``Settings`` and parsed once.

Every webhook module takes a ``WebhookConfig`` rather than reading ``Settings`` attributes
itself, so the names, defaults and parsing live here only. Attributes missing from an older
``Settings`` fall back to the defaults below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from worker.settings import Settings

DEFAULT_SCHEDULE = "5,30,120,600,1800,3600,10800"
DEFAULT_WINDOW = 24 * 3600.0


def parse_schedule(raw: str) -> tuple[float, ...]:
    """Comma-separated positive seconds, e.g. ``"5,30,120"``. Raises ``ValueError``."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    delays = tuple(float(p) for p in parts)
    if not delays or any(not 0 < d < math.inf for d in delays):  # also refuses nan
        raise ValueError("the retry schedule needs one or more positive numbers of seconds")
    return delays


def parse_allow(raw: str) -> tuple[str, ...]:
    """Comma-separated allowlist entries, lower-cased, blanks dropped."""
    return tuple(p.strip().lower() for p in raw.split(",") if p.strip())


@dataclass(frozen=True)
class WebhookConfig:
    """``secrets``: the per-transaction signing secrets (``whsec_...``), newest first; a
    delivery carries one signature per secret so receivers can rotate. Never logged."""

    secrets: tuple[str, ...]
    allow: tuple[str, ...]
    connect_timeout: float
    read_timeout: float
    schedule: tuple[float, ...]
    window: float
    sweep_seconds: float
    retention_seconds: int

    def __repr__(self) -> str:
        return (f"WebhookConfig(secrets={len(self.secrets)} hidden, allow={self.allow}, "
                f"schedule={self.schedule}, window={self.window})")

    @property
    def attempt_seconds(self) -> float:
        """The longest one HTTP attempt should take (connect + read + slack)."""
        return self.connect_timeout + self.read_timeout + 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        return cls(
            secrets=tuple(settings.webhook_secret.reveal().split()),
            allow=parse_allow(settings.webhook_allow),
            connect_timeout=settings.webhook_connect_timeout,
            read_timeout=settings.webhook_read_timeout,
            schedule=parse_schedule(settings.webhook_retry_schedule),
            window=settings.webhook_retry_window_seconds,
            sweep_seconds=settings.webhook_sweep_seconds,
            retention_seconds=int(settings.record_ttl_seconds),
        )

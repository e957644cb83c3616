"""Redis answers as text.

The Redis clients are built without ``decode_responses`` (record JSON, Lua scripts and
Celery's transport share them), so keys, members and values arrive as bytes.
"""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str:
    """``value`` (bytes from Redis, or already text) as ``str``."""
    return value.decode() if isinstance(value, bytes) else str(value)

"""The audit stream in Redis: the one place that writes audit entries, and raw reads.

Entries live in the stream ``kvsigner:audit`` and are only ever appended (XADD with an id
Redis assigns, so the id's first part is the Redis server's time in milliseconds and the
order is the order of writes across all processes). Nothing deletes entries, except that
with ``KVSIGNER_AUDIT_RETENTION_DAYS`` > 0 every append also trims entries older than the
retention (XADD ... MINID: the oldest entries go as new ones arrive, so an idle log keeps
entries past the retention until the next signature).

Every value is stored as text; absent values are omitted. ``worker.audit`` documents the
fields; ``worker.audit.query`` turns entries into the API's view.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import redis

from worker.domain.errors import KvsignerError
from worker.store.text import as_text

STREAM = "kvsigner:audit"
#: Written into every entry as ``format``, so a future change of fields can be told apart.
FORMAT = "1"

Entry = tuple[str, dict[str, str]]


def unavailable(exc: Exception, doing: str) -> KvsignerError:
    """The error raised whenever Redis fails under the audit log (retryable)."""
    return KvsignerError("audit_unavailable", f"the audit log could not be {doing} "
                         f"({type(exc).__name__})", retryable=True)


class AuditLog:
    """Appends to and reads the audit stream of one Redis. Thread-safe."""

    def __init__(self, client: redis.Redis, retention_days: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.r = client
        self.retention_days = retention_days
        self._clock = clock

    def append(self, fields: Mapping[str, object],
               also: Callable[[Any], None] | None = None) -> str:
        """Append one entry (``None`` values left out) and return its id.

        ``also(pipe)`` queues commands (e.g. metrics) to ride on the same round trip; their
        failures are ignored. Raises ``KvsignerError('audit_unavailable')`` (retryable) when
        Redis does not take the entry: callers that are about to sign must then not sign.
        """
        data = {name: str(value) for name, value in fields.items() if value is not None}
        data["format"] = FORMAT
        trim: dict[str, Any] = {}
        if self.retention_days > 0:
            cutoff_ms = int((self._clock() - self.retention_days * 86400) * 1000)
            # Exact, not "~": the cost is the entries removed, about one per append.
            trim = {"minid": f"{max(cutoff_ms, 0)}-0", "approximate": False}
        try:
            if also is None:
                return as_text(self.r.xadd(STREAM, data, **trim))  # type: ignore[arg-type]
            with self.r.pipeline(transaction=False) as pipe:
                pipe.xadd(STREAM, data, **trim)  # type: ignore[arg-type]
                also(pipe)
                written = pipe.execute(raise_on_error=False)[0]
        except redis.RedisError as exc:
            raise unavailable(exc, "written") from None
        if isinstance(written, Exception):
            raise unavailable(written, "written")
        return as_text(written)

    def newest(self, upper: str, lower: str, count: int) -> list[Entry]:
        """Up to ``count`` entries from ``upper`` down to ``lower`` (XREVRANGE bounds)."""
        return self._read(lambda: self.r.xrevrange(STREAM, upper, lower, count=count))

    def oldest(self, lower: str, upper: str, count: int) -> list[Entry]:
        """Up to ``count`` entries from ``lower`` up to ``upper`` (XRANGE bounds)."""
        return self._read(lambda: self.r.xrange(STREAM, lower, upper, count=count))

    def length(self) -> int:
        try:
            return int(self.r.xlen(STREAM))
        except redis.RedisError as exc:
            raise unavailable(exc, "read") from None

    @staticmethod
    def _read(call: Callable[[], Any]) -> list[Entry]:
        try:
            raw = call()
        except redis.RedisError as exc:
            raise unavailable(exc, "read") from None
        return [(as_text(entry_id), {as_text(k): as_text(v) for k, v in fields.items()})
                for entry_id, fields in raw]

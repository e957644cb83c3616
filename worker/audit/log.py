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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from worker.domain.errors import KvsignerError
from worker.store.text import as_text

STREAM = "kvsigner:audit"
#: Written into every entry as ``format``, so a future change of fields can be told apart.
FORMAT = "1"

Entry = tuple[str, dict[str, str]]
#: Queues commands (on a pipeline) to ride on an append's round trip.
Also = Callable[[Any], None]


def _stored(fields: Mapping[str, object]) -> dict[str, str]:
    """An entry as the stream holds it: text values, ``None`` left out, the format added."""
    data = {name: str(value) for name, value in fields.items() if value is not None}
    data["format"] = FORMAT
    return data


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

    def append(self, fields: Mapping[str, object], also: Also | None = None,
               replies: list[Any] | None = None) -> str:
        """Append one entry (``None`` values left out) and return its id.

        ``also(pipe)`` queues commands (metrics, the vault rate limiter's reservation) to
        ride on the same round trip; ``replies``, when given, receives their replies (an
        error is a reply: nothing else is done about it). Raises
        ``KvsignerError('audit_unavailable')`` (retryable) when Redis does not take the
        entry: callers that are about to sign must then not sign.
        """
        return self.append_all([fields], also, replies)[0]

    def append_all(self, entries: Sequence[Mapping[str, object]], also: Also | None = None,
                   replies: list[Any] | None = None) -> list[str]:
        """``append`` for several entries, in order, in one round trip (a MULTI, so that a
        connection lost on the way writes none of them rather than some). Returns their
        ids; raises ``audit_unavailable`` as ``append`` does, when any entry is refused."""
        trim: dict[str, Any] = {}
        if self.retention_days > 0:
            cutoff_ms = int((self._clock() - self.retention_days * 86400) * 1000)
            # Exact, not "~": the cost is the entries removed, about one per append.
            trim = {"minid": f"{max(cutoff_ms, 0)}-0", "approximate": False}
        data = [_stored(fields) for fields in entries]
        try:
            if also is None and len(data) == 1:
                return [as_text(self.r.xadd(STREAM, data[0], **trim))]
            with self.r.pipeline(transaction=len(data) > 1) as pipe:
                for stored in data:
                    pipe.xadd(STREAM, stored, **trim)
                if also is not None:
                    also(pipe)
                answers = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise unavailable(exc, "written") from None
        written = answers[:len(data)]
        for answer in written:
            if isinstance(answer, Exception):
                raise unavailable(answer, "written")
        if replies is not None:
            replies.extend(answers[len(data):])
        return [as_text(answer) for answer in written]

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

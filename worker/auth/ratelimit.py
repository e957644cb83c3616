"""Per-key request rate limit shared by every API process: GCRA in one Redis script.

GCRA (the generic cell rate algorithm) keeps one number per key, the "theoretical arrival
time" (TAT) of the next request if requests came exactly at the permitted rate. A request is
admitted when it comes no earlier than ``TAT - (burst - 1) x interval``; admitting it moves
TAT one interval on. So a key may send ``burst`` requests at once and then ``rate`` per
second, and the wait of a refused request is exact (no fixed-window edge where twice the
rate gets through). The clock is Redis's own ``TIME``, so API hosts with skewed clocks
share one limit correctly, and the check-and-update is one script, so it is atomic.
"""

from __future__ import annotations

import math

import redis

PREFIX = "kvsigner:ratelimit:api:"

# KEYS[1]: the TAT key; KEYS[2] (optional): a key that must exist (an API key's record, so a
# revoked key is refused in the same round trip). ARGV[1]: interval (microseconds; 0: no
# limit), ARGV[2]: burst. Returns -1 when KEYS[2] is missing (nothing counted), 0 when
# admitted, else the microseconds until the request would be admitted.
_GCRA = """
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local interval = tonumber(ARGV[1])
if interval <= 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return math.ceil(wait) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
           math.ceil((new_tat - now) / 1000) + 1000)
return 0
"""


class RateLimiter:
    """``rate`` requests per second with bursts of ``burst``, per key name, in ``client``.

    ``rate <= 0`` turns the limiter off (every request admitted; ``wait_seconds`` then makes
    no Redis call).
    """

    def __init__(self, client: redis.Redis, rate: float, burst: int | None = None,
                 prefix: str = PREFIX) -> None:
        self.rate = rate
        self.burst = max(1, burst if burst is not None else math.ceil(2 * rate))
        self.prefix = prefix
        self._script = client.register_script(_GCRA)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def wait_seconds(self, key: str) -> float:
        """Count one request of ``key``: 0.0 when admitted, else how many seconds until it
        would be (nothing is counted for a refused request)."""
        if not self.enabled:
            return 0.0
        return self.admit(key, None) or 0.0  # None only comes of a missing ``needs`` key

    def admit(self, key: str, needs: str | None) -> float | None:
        """``wait_seconds`` that first checks, in the same round trip, that the Redis key
        ``needs`` exists: None when it does not (nothing counted). Asks Redis even when the
        limiter is off."""
        interval_us = max(1, round(1_000_000 / self.rate)) if self.enabled else 0
        keys = [self.prefix + key] + ([needs] if needs is not None else [])
        answer = int(self._script(keys=keys, args=[interval_us, self.burst]))
        return None if answer < 0 else answer / 1_000_000


def retry_after(wait: float) -> int:
    """``Retry-After`` in whole seconds: rounded up, at least 1 (0 would invite a hot loop)."""
    return max(1, math.ceil(wait))

"""One vault-call rate limiter shared by every worker through Redis.

Key Vault counts operations per vault per 10-second window and answers 429 beyond its quota
(2,000 for HSM-backed secp256k1 keys). Backing off after 429s works, but a busy cluster then
spends much of its time waiting; pacing every sign call below the quota keeps throughput at
the quota instead. The limiter is GCRA (a token bucket kept as one timestamp): calls are
spaced ``window / limit`` apart on average, with bursts of up to ``burst`` calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

# KEYS[1] = limiter key; ARGV = now (ms), interval (ms), burst tolerance (ms).
# Returns 0 when the call may go now, else how many ms to wait before asking again.
_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('get', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
    -- Redis truncates a Lua number reply to an integer: a wait below 1 ms would read as 0,
    -- "go now", although no slot was taken. Round up to whole milliseconds.
    return math.max(1, math.ceil(allow_at - now))
end
local new_tat = tat + interval
redis.call('set', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now + tolerance + 1000))
return 0
"""


class VaultRateLimiter:
    """Allows at most ``limit`` calls per ``window`` seconds across all processes sharing
    ``name`` (the vault URL). ``acquire()`` blocks until the call may go."""

    def __init__(self, client: redis.Redis, name: str, limit: int, window: float = 10.0,
                 burst: int = 10, sleep: Callable[[float], None] = time.sleep) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.key = f"kvsigner:ratelimit:vault:{name}"
        self.interval_ms = window * 1000.0 / limit
        self.tolerance_ms = self.interval_ms * max(0, burst - 1)
        self._script = client.register_script(_GCRA)
        self._sleep = sleep
        self.waited = 0.0  # seconds spent waiting, for metrics and tests

    def try_acquire(self) -> float:
        """Take a slot if one is free now: returns 0.0, else the seconds to wait."""
        wait_ms = self._script(keys=[self.key], args=[
            int(time.time() * 1000), self.interval_ms, self.tolerance_ms])
        return float(wait_ms) / 1000.0

    def acquire(self, timeout: float = 60.0) -> None:
        """Wait for a slot. Raises ``TimeoutError`` after ``timeout`` seconds of waiting."""
        deadline = time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise TimeoutError("vault rate limiter: no slot within the timeout")
            self.waited += wait
            self._sleep(wait)

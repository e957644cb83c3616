"""One vault-call rate limiter shared by every worker through Redis.

Key Vault counts operations per vault per 10-second window and answers 429 beyond its quota
(2,000 for HSM-backed secp256k1 keys). Backing off after 429s works, but a busy cluster then
spends much of its time waiting; pacing every sign call below the quota keeps throughput at
the quota instead. The limiter is GCRA (a token bucket kept as one timestamp): calls are
spaced ``window / limit`` apart on average, with bursts of up to ``burst`` calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import redis

# KEYS[1] = limiter key; ARGV = now (ms), interval (ms), burst tolerance (ms), longest wait
# (ms) the caller accepts. A caller that accepts the wait gets the next free slot reserved for
# it and the ms until that slot (0: go now); it then sleeps that long and goes without asking
# again, so waiting callers cost one call each instead of waking together to race for every
# slot. A wait longer than the caller accepts reserves nothing and is returned negated.
_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local longest = tonumber(ARGV[4])
local tat = tonumber(redis.call('get', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > longest then
    -- Redis truncates a Lua number reply to an integer: round away from zero.
    return -math.ceil(wait)
end
local new_tat = tat + interval
redis.call('set', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now + tolerance + 1000))
if wait <= 0 then return 0 end
return math.ceil(wait)
"""


#: Seconds a caller waits at most for its slot, unless it says otherwise.
ACQUIRE_TIMEOUT = 60.0

# Inside ``VaultRateLimiter.reserved``: the slot is reserved, so the next ``acquire`` (the
# first attempt of the vault call) takes it without asking Redis again.
_slot_held: ContextVar[bool] = ContextVar("kvsigner_vault_slot_held", default=False)


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

    def _args(self, longest_ms: float) -> list[Any]:
        return [int(time.time() * 1000), self.interval_ms, self.tolerance_ms, longest_ms]

    def _ask(self, longest_ms: float) -> float:
        wait_ms = self._script(keys=[self.key], args=self._args(longest_ms))
        return float(wait_ms) / 1000.0

    def queue_reserve(self, pipe: Any, timeout: float = ACQUIRE_TIMEOUT) -> None:
        """Queue ``acquire``'s reservation in ``pipe``, to ride on another round trip; hand
        its reply to ``reserved``. (EVAL, not EVALSHA: a pipeline would first ask whether
        Redis has the script.)"""
        pipe.eval(_GCRA, 1, self.key, *self._args(timeout * 1000.0))

    @contextmanager
    def reserved(self, reply: Any) -> Iterator[None]:
        """With the reply of ``queue_reserve``: wait for the slot it reserved; the first
        ``acquire`` in the block then takes that slot without asking Redis. A reply that
        reserved nothing (an error, or no slot within the timeout) changes nothing:
        ``acquire`` asks as usual."""
        if not isinstance(reply, int) or reply < 0:  # an error is no int
            yield
            return
        if reply > 0:
            self.waited += reply / 1000.0
            self._sleep(reply / 1000.0)
        token = _slot_held.set(True)
        try:
            yield
        finally:
            _slot_held.reset(token)

    def try_acquire(self) -> float:
        """Take a slot if one is free now: returns 0.0, else the seconds until one is free
        (nothing is taken then)."""
        return abs(self._ask(0))

    def acquire(self, timeout: float = ACQUIRE_TIMEOUT) -> None:
        """Reserve the next slot and wait for it (inside ``reserved``, the first call takes
        the slot reserved there). Raises ``TimeoutError`` (reserving nothing) when that slot
        is more than ``timeout`` seconds away."""
        if _slot_held.get():
            _slot_held.set(False)
            return
        wait = self._ask(timeout * 1000.0)
        if wait < 0:
            raise TimeoutError("vault rate limiter: no slot within the timeout")
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

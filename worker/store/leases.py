"""Short leases in Redis: "one worker at a time works on this", with expiry for crashes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import redis

from worker.store.records import PREFIX

#: Delete KEYS[1] only if it still holds ARGV[1], our token (it may have expired and been
#: taken over): the release of a lease or lock.
RELEASE_IF_OURS = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


# Leases whose release waits for the innermost ``released_together()`` of this thread.
_held: ContextVar[list[tuple[str, str]] | None] = ContextVar("kvsigner_held_leases",
                                                            default=None)


class Leases:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._release = client.register_script(RELEASE_IF_OURS)

    @contextmanager
    def hold(self, name: str, seconds: float) -> Iterator[bool]:
        """Try to take lease ``name`` for ``seconds`` without waiting. Yields whether it was
        taken; a taken lease is released on exit (only if still ours)."""
        with self.hold_reading(name, seconds, None) as (taken, _):
            yield taken

    @contextmanager
    def hold_reading(self, name: str, seconds: float,
                     key: str | None) -> Iterator[tuple[bool, Any]]:
        """``hold`` that also reads ``key`` (GET) in the same atomic step as the lease is
        taken: what the lease guards, as it was then, with no round trip of its own. Yields
        ``(taken, value)``; the value is None for a missing key (or when ``key`` is None)."""
        lease_key = f"{PREFIX}lease:{name}"
        token = secrets.token_hex(16)
        expiry_ms = max(1, int(seconds * 1000))
        value: Any = None
        if key is None:
            taken = bool(self.r.set(lease_key, token, nx=True, px=expiry_ms))
        else:
            with self.r.pipeline(transaction=True) as pipe:
                pipe.set(lease_key, token, nx=True, px=expiry_ms)
                pipe.get(key)
                answer, value = pipe.execute()
            taken = bool(answer)
        try:
            yield taken, value
        finally:
            if taken:
                held = _held.get()
                if held is not None:
                    held.append((lease_key, token))
                else:
                    self._release(keys=[lease_key], args=[token])

    @contextmanager
    def released_together(self) -> Iterator[None]:
        """Leases this thread releases inside the block stay held until it ends, and are
        then released in one round trip (a drain's batch: its records are not taken by
        anyone else meanwhile, which no one should). Nested blocks add to the outer one."""
        if _held.get() is not None:
            yield
            return
        token = _held.set([])
        try:
            yield
        finally:
            held = _held.get() or []
            _held.reset(token)
            if held:
                # EVAL, not EVALSHA: a pipeline would first ask whether Redis has the script.
                with self.r.pipeline(transaction=False) as pipe:
                    for lease_key, owner in held:
                        pipe.eval(RELEASE_IF_OURS, 1, lease_key, owner)
                    pipe.execute()

    def claim(self, name: str, seconds: float) -> bool:
        """Take marker ``name`` for ``seconds`` unless someone took it within that time.
        Never released early: it rate-limits a recurring job across processes."""
        key = f"{PREFIX}mark:{name}"
        return bool(self.r.set(key, 1, nx=True, px=max(1, int(seconds * 1000))))

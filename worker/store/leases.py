"""Short leases in Redis: "one worker at a time works on this", with expiry for crashes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

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


class Leases:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._release = client.register_script(RELEASE_IF_OURS)

    @contextmanager
    def hold(self, name: str, seconds: float) -> Iterator[bool]:
        """Try to take lease ``name`` for ``seconds`` without waiting. Yields whether it was
        taken; a taken lease is released on exit (only if still ours)."""
        key = f"{PREFIX}lease:{name}"
        token = secrets.token_hex(16)
        taken = bool(self.r.set(key, token, nx=True, px=max(1, int(seconds * 1000))))
        try:
            yield taken
        finally:
            if taken:
                self._release(keys=[key], args=[token])

    def claim(self, name: str, seconds: float) -> bool:
        """Take marker ``name`` for ``seconds`` unless someone took it within that time.
        Never released early: it rate-limits a recurring job across processes."""
        key = f"{PREFIX}mark:{name}"
        return bool(self.r.set(key, 1, nx=True, px=max(1, int(seconds * 1000))))

"""The inbox: accepted transactions wait here for a drain, several per Celery message.

A new record's id is appended to one Redis list (``put``; ``put_in`` does it inside the
transaction that saves the record), and a ``kvsigner.drain`` message is sent only when none
is pending: ``put`` claims a short-lived mark in the same transaction, and only the caller
that claimed it sends the message. A drain (``take``) clears the mark, takes up to ``n`` ids
from the front and, when more are waiting, claims the mark again so that its caller sends
the next drain at once: a backlog is shared out batch by batch among the worker threads
that come free, while one Celery message, its delivery and its acknowledgement serve a
whole batch. A deep backlog is taken in larger batches (a share of it, up to a limit), its
end in small ones, so that the last transactions are not queued behind one long batch.

Nothing waits forever when a message is lost or a worker dies holding ids it took: the mark
expires after ``MARK_SECONDS`` (the next ``put`` sends a drain again), beat sends a drain every
few seconds, and a record left ``queued`` is queued again by the sweeper
(``KVSIGNER_SWEEP_SECONDS``). A drain of an id that is already being processed, or is done,
costs a lease attempt and a read: every stage is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from worker.store.records import PREFIX
from worker.store.text import as_text

KEY = f"{PREFIX}inbox"
MARK = f"{PREFIX}inbox:drain"
#: How long a claimed mark stands for a drain message that may have been lost.
MARK_SECONDS = 5.0

# KEYS: inbox, mark. ARGV: the fewest ids to take, the most, the share of the backlog to
# take (1/ARGV[3] of it, between the two), mark expiry (ms). Returns {claimed, ids...}; LPOP
# one at a time because LPOP with a count needs Redis 6.2.
_TAKE = """
redis.call('DEL', KEYS[2])
local n = math.ceil(redis.call('LLEN', KEYS[1]) / tonumber(ARGV[3]))
n = math.max(tonumber(ARGV[1]), math.min(tonumber(ARGV[2]), n))
local out = {0}
for _ = 1, n do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  out[#out + 1] = id
end
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) then
  out[1] = 1
end
return out
"""


@dataclass(frozen=True)
class Batch:
    """Ids taken from the inbox, oldest first; ``more``: ids are still waiting and the
    caller claimed the mark, so it must send the next drain."""

    ids: list[str]
    more: bool


class Inbox:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._take = client.register_script(_TAKE)

    def put(self, tx_id: str) -> bool:
        """Append ``tx_id``; True when no drain was pending and the caller must send one."""
        with self.r.pipeline() as pipe:
            index = self.put_in(pipe, tx_id)
            return bool(pipe.execute()[index])

    def put_in(self, pipe: Any, tx_id: str) -> int:
        """``put`` queued in ``pipe``, a MULTI (plain commands rather than a script, as a
        pipeline would ask Redis about a script first). Returns the index of the reply that
        is truthy when the caller claimed the mark and must send a drain."""
        pipe.rpush(KEY, tx_id)
        index = len(pipe.command_stack)
        pipe.set(MARK, "1", nx=True, px=_ms(MARK_SECONDS))
        return index

    def take(self, n: int, most: int | None = None, share: int = 1) -> Batch:
        """Ids from the front: ``n`` (>= 1), or with ``most`` up to that many when the
        backlog is deep: 1/``share`` of the ids waiting, so that a backlog is shared by about
        ``share`` drains at a time in large batches while its end still goes out in small
        ones. Clears the mark first, so an id put after this call always has a drain
        coming."""
        n = max(1, n)
        answer: list[Any] = self._take(keys=[KEY, MARK], args=[
            n, max(n, most or n), max(1, share), _ms(MARK_SECONDS)])
        return Batch([as_text(x) for x in answer[1:]], bool(answer[0]))

    def unclaim(self) -> None:
        """Give up a claimed mark whose drain could not be sent, so that the next ``put``
        sends one instead of waiting for the mark to expire."""
        self.r.delete(MARK)

    def waiting(self) -> int:
        return int(self.r.llen(KEY))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))

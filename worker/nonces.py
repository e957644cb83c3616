"""Per-sender nonce allocation under a Redis lock.

State per (chain, sender), under ``kvsigner:nonce:{chain}:{sender}``:

``next``       the lowest nonce never handed out by this service (hash field)
``synced_at``  when ``next`` was last compared with the node's pending count (hash field)
``...:free``   a sorted set of nonces that were handed out and then released unused (the
               score is when), reused lowest first

The safety rule: a nonce is written onto its record in the same atomic Redis script that
advances ``next`` (or takes it from ``free``), while holding the sender's lock, and that
script writes nothing unless the lock still holds this worker's token (and the record is
still the version the nonce was chosen for: the record store's compare-and-set). A crash between any
two steps therefore either leaves the nonce unassigned or assigned to exactly one record;
there is no free-standing counter that can run ahead of the records, and a retried task
finds the nonce already on its record and reuses it.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord
from worker.store.leases import RELEASE_IF_OURS
from worker.store.records import (
    PREFIX,
    RECORD_ARGS,
    RECORD_KEYS,
    RecordStore,
    ScriptRefused,
    WriteWith,
    record_script,
)

# The nonce's write with the record's, fenced by the sender's lock, which it then releases
# (the assignment's last step under it). KEYS after the record's:
# the lock, the nonce state, the free set. ARGV after the record's: the lock's token, the new
# ``next`` and ``synced_at`` ('' when the record took no new nonce), the reused free nonce
# ('' for none), then free nonces to forget.
_ASSIGN = record_script(f"""
local k, a = {RECORD_KEYS}, {RECORD_ARGS}
if redis.call('GET', KEYS[k + 1]) ~= ARGV[a + 1] then return {{-1}} end
local done = compare_and_set(KEYS, ARGV)
if done[1] ~= 1 then return done end
if ARGV[a + 2] ~= '' then
  redis.call('HSET', KEYS[k + 2], 'next', ARGV[a + 2], 'synced_at', ARGV[a + 3])
end
if ARGV[a + 4] ~= '' then redis.call('ZREM', KEYS[k + 3], ARGV[a + 4]) end
for i = a + 5, #ARGV do redis.call('ZREM', KEYS[k + 3], ARGV[i]) end
redis.call('DEL', KEYS[k + 1])
return done
""")

# A nonce handed back with the record's write that clears it, fenced by the lock, which it
# then releases. KEYS
# after the record's: the lock, the nonce state, the free set. ARGV after the record's: the
# token, the nonce, the time. The newest nonce steps ``next`` back; any other joins the free
# set (the score: since when).
_RELEASE = record_script(f"""
local k, a = {RECORD_KEYS}, {RECORD_ARGS}
if redis.call('GET', KEYS[k + 1]) ~= ARGV[a + 1] then return {{-1}} end
local done = compare_and_set(KEYS, ARGV)
if done[1] ~= 1 then return done end
local nonce = tonumber(ARGV[a + 2])
if tonumber(redis.call('HGET', KEYS[k + 2], 'next')) == nonce + 1 then
  redis.call('HSET', KEYS[k + 2], 'next', ARGV[a + 2])
else
  redis.call('ZADD', KEYS[k + 3], ARGV[a + 3], ARGV[a + 2])
end
redis.call('DEL', KEYS[k + 1])
return done
""")

#: Waits between looks at a busy sender lock: doubling from the first to the longest.
LOCK_FIRST_WAIT = 0.002
LOCK_MAX_WAIT = 0.025


@dataclass
class SenderLock:
    """A sender lock this worker holds: its key and its token. ``reads``: the answers of
    the reads made in the same atomic step as the lock was taken. ``released``: a script
    already released it (the lock is not released again)."""

    name: str
    token: str
    reads: list[Any] = field(default_factory=list)
    released: bool = False


class LockLost(KvsignerError):
    """The sender lock expired or was taken over before our transaction committed."""

    def __init__(self, sender: str) -> None:
        super().__init__("node_unavailable", f"nonce lock for {sender} was lost; retrying",
                         retryable=True)


class NonceManager:
    """Assigns and releases nonces. ``pending_count(address)`` asks the node for the
    sender's pending transaction count (used when local state is new or stale)."""

    def __init__(self, client: redis.Redis, store: RecordStore,
                 pending_count: Callable[[str], int], *, lock_seconds: float = 30.0,
                 resync_seconds: float = 15.0, lock_wait_seconds: float = 60.0) -> None:
        self.r = client
        self.store = store
        self.pending_count = pending_count
        self.lock_seconds = lock_seconds
        self.resync_seconds = resync_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self._assign = client.register_script(_ASSIGN)
        self._release = client.register_script(_RELEASE)
        self._unlock = client.register_script(RELEASE_IF_OURS)

    @staticmethod
    def state_key(chain_id: int, sender: str) -> str:
        return f"{PREFIX}nonce:{chain_id}:{sender}"

    @staticmethod
    def lock_key(chain_id: int, sender: str) -> str:
        return f"{PREFIX}lock:nonce:{chain_id}:{sender}"

    @contextmanager
    def locked(self, chain_id: int, sender: str,
               reads: Callable[[Any], None] | None = None) -> Iterator[SenderLock]:
        """Hold the sender's lock (a token of ours, expiry ``lock_seconds``). ``reads(pipe)``
        queues reads that run in the same atomic step as the lock is taken (their answers
        in ``SenderLock.reads``): the state the lock guards, read with no round trip of its
        own. Raises ``KvsignerError('node_unavailable')`` (retryable) after
        ``lock_wait_seconds`` of waiting."""
        lock = SenderLock(self.lock_key(chain_id, sender), secrets.token_hex(16))
        expiry_ms = max(1, int(self.lock_seconds * 1000))
        deadline = time.monotonic() + self.lock_wait_seconds
        # The lock is held for a few Redis round trips only, so a waiter first looks again
        # soon; under contention (many threads, one sender) the waits grow, so that waiting
        # does not cost the CPU the lock holders need.
        wait = LOCK_FIRST_WAIT
        while not self._take(lock, expiry_ms, reads):
            if time.monotonic() >= deadline:
                raise KvsignerError("node_unavailable", f"timed out waiting for the nonce "
                                    f"lock of {sender}", retryable=True)
            time.sleep(random.uniform(wait / 2, wait))
            wait = min(wait * 2, LOCK_MAX_WAIT)
        try:
            yield lock
        finally:
            if not lock.released:
                # Only if still ours: after its expiry another worker may hold it, and our
                # writes were fenced anyway.
                self._unlock(keys=[lock.name], args=[lock.token])

    def _take(self, lock: SenderLock, expiry_ms: int,
              reads: Callable[[Any], None] | None) -> bool:
        if reads is None:
            return bool(self.r.set(lock.name, lock.token, nx=True, px=expiry_ms))
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(lock.name, lock.token, nx=True, px=expiry_ms)
            reads(pipe)
            answers = pipe.execute()
        lock.reads = list(answers[1:])
        return bool(answers[0])

    def assign(self, tx_id: str, chain_id: int,
               prepare: Callable[[TxRecord], None] | None = None,
               current: TxRecord | None = None) -> TxRecord:
        """Give record ``tx_id`` a nonce (idempotent: a record that has one keeps it).

        ``prepare(record)`` runs inside the same atomic write (e.g. to store gas and fees).
        ``current``: the record as the caller just read it (saves a read; the write checks
        again that it has no nonce). Returns the updated record. Raises ``LockLost``
        (retryable) or ``RecordNotFound``.
        """
        rec = current if current is not None and current.id == tx_id \
            else self.store.require(tx_id)
        if rec.nonce is not None:
            return rec
        sender = rec.sender
        key = self.state_key(chain_id, sender)
        free_key = key + ":free"

        def reads(pipe: Any) -> None:
            pipe.hgetall(key)
            pipe.zrange(free_key, 0, -1)

        with self.locked(chain_id, sender, reads) as lock:
            state, free_members = lock.reads
            next_nonce = int(state[b"next"]) if b"next" in state else None
            synced_at = float(state[b"synced_at"]) if b"synced_at" in state else 0.0
            now = time.time()
            floor = 0
            if next_nonce is None or now - synced_at > self.resync_seconds:
                # New or stale local state: the node may know of transactions we did not
                # send (another signer using the key) -- never go below its pending count.
                floor = self.pending_count(sender)
                next_nonce = max(next_nonce or 0, floor)
                synced_at = now
            free = sorted(int(m) for m in free_members)
            reusable = [n for n in free if floor <= n < next_nonce]
            chosen = reusable[0] if reusable else next_nonce
            stale_free = [n for n in free if n < floor]
            new_next = next_nonce + 1 if chosen == next_nonce else next_nonce

            def change(r: TxRecord) -> None:
                if r.nonce is None:
                    r.nonce = chosen
                    if prepare is not None:
                        prepare(r)

            def also(r: TxRecord) -> tuple[list[str], list[Any]]:
                took = r.nonce == chosen
                return [lock.name, key, free_key], [
                    lock.token, new_next if took else "", synced_at if took else "",
                    chosen if took and reusable else "", *stale_free]

            return self._write(tx_id, change, WriteWith(self._assign, also), lock, sender)

    def release(self, tx_id: str, chain_id: int) -> bool:
        """Hand the record's nonce back for reuse and clear it from the record, atomically.

        Only for a nonce that no transaction of ours can have reached the chain with (the
        caller checks). Returns False when the record holds no nonce.
        """
        rec = self.store.require(tx_id)
        if rec.nonce is None:
            return False
        sender = rec.sender
        key = self.state_key(chain_id, sender)
        free_key = key + ":free"
        with self.locked(chain_id, sender) as lock:
            released: dict[str, int] = {}

            def change(r: TxRecord) -> None:
                released.clear()
                if r.nonce is not None:
                    released["nonce"] = r.nonce
                    r.nonce = None

            def also(r: TxRecord) -> tuple[list[str], list[Any]]:
                return [lock.name, key, free_key], [lock.token, released["nonce"], time.time()]

            self._write(tx_id, change, WriteWith(self._release, also), lock, sender)
            return "nonce" in released

    def _write(self, tx_id: str, change: Callable[[TxRecord], None], write_with: WriteWith,
               lock: SenderLock, sender: str) -> TxRecord:
        """The record's update through a lock-fenced script that releases the lock when it
        writes; ``LockLost`` when the lock is no longer ours (nothing was written)."""
        try:
            rec, _ = self.store.update(tx_id, change, write_with)
        except ScriptRefused:
            raise LockLost(sender) from None
        lock.released = write_with.written
        return rec

    def force_resync(self, chain_id: int, sender: str) -> None:
        """Make the next assignment compare with the node's pending count first."""
        self.r.hset(self.state_key(chain_id, sender), "synced_at", 0)

    def next_nonce(self, chain_id: int, sender: str) -> int | None:
        raw = self.r.hget(self.state_key(chain_id, sender), "next")
        return None if raw is None else int(raw)

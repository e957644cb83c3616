"""Per-sender nonce allocation under a Redis lock.

State per (chain, sender), under ``kvsigner:nonce:{chain}:{sender}``:

``next``       the lowest nonce never handed out by this service (hash field)
``synced_at``  when ``next`` was last compared with the node's pending count (hash field)
``...:free``   a sorted set of nonces that were handed out and then released unused (the
               score is when), reused lowest first

The safety rule: a nonce is written onto its record in the same Redis transaction that
advances ``next`` (or takes it from ``free``), while holding the sender's lock, and that
transaction only commits if the lock still holds this worker's token. A crash between any
two steps therefore either leaves the nonce unassigned or assigned to exactly one record;
there is no free-standing counter that can run ahead of the records, and a retried task
finds the nonce already on its record and reuses it.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.lock import Lock

from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord
from worker.store.records import PREFIX, RecordStore

#: Waits between looks at a busy sender lock: doubling from the first to the longest.
LOCK_FIRST_WAIT = 0.002
LOCK_MAX_WAIT = 0.025


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

    @staticmethod
    def state_key(chain_id: int, sender: str) -> str:
        return f"{PREFIX}nonce:{chain_id}:{sender}"

    @staticmethod
    def lock_key(chain_id: int, sender: str) -> str:
        return f"{PREFIX}lock:nonce:{chain_id}:{sender}"

    @contextmanager
    def locked(self, chain_id: int, sender: str) -> Iterator[Lock]:
        """Hold the sender's lock (owner token, expiry ``lock_seconds``)."""
        lock = self.r.lock(self.lock_key(chain_id, sender), timeout=self.lock_seconds,
                           thread_local=False)
        deadline = time.monotonic() + self.lock_wait_seconds
        # The lock is held for a few Redis round trips only, so a waiter first looks again
        # soon; under contention (many threads, one sender) the waits grow, so that waiting
        # does not cost the CPU the lock holders need.
        wait = LOCK_FIRST_WAIT
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise KvsignerError("node_unavailable", f"timed out waiting for the nonce "
                                    f"lock of {sender}", retryable=True)
            time.sleep(random.uniform(wait / 2, wait))
            wait = min(wait * 2, LOCK_MAX_WAIT)
        try:
            yield lock
        finally:
            # Expired: another worker may own it now; our commit was fenced anyway.
            with contextlib.suppress(redis.exceptions.LockError):
                lock.release()

    def _fence(self, lock: Lock, sender: str) -> Callable[[Any], None]:
        token = lock.local.token

        def check(pipe: Any) -> None:
            current = pipe.get(lock.name)
            if current is None or current != token:
                raise LockLost(sender)
        return check

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
        with self.locked(chain_id, sender) as lock:
            with self.r.pipeline(transaction=False) as pipe:  # one round trip under the lock
                pipe.hgetall(key)
                pipe.zrange(free_key, 0, -1)
                state, free_members = pipe.execute()
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

            def also(pipe: Any, r: TxRecord) -> None:
                if r.nonce == chosen:
                    pipe.hset(key, mapping={"next": new_next, "synced_at": synced_at})
                    if reusable:
                        pipe.zrem(free_key, chosen)
                if stale_free:
                    pipe.zrem(free_key, *stale_free)

            rec, _ = self.store.update(tx_id, change, watch=(lock.name,),
                                       precheck=self._fence(lock, sender), also=also)
            return rec

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
            state = self.r.hgetall(key)
            next_nonce = int(state[b"next"]) if b"next" in state else None
            released: dict[str, int] = {}

            def change(r: TxRecord) -> None:
                released.clear()
                if r.nonce is not None:
                    released["nonce"] = r.nonce
                    r.nonce = None

            def also(pipe: Any, r: TxRecord) -> None:
                nonce = released.get("nonce")
                if nonce is None:
                    return
                if next_nonce is not None and nonce == next_nonce - 1:
                    pipe.hset(key, "next", nonce)  # the newest nonce: simply step back
                else:
                    pipe.zadd(free_key, {str(nonce): time.time()})  # score: since when

            self.store.update(tx_id, change, watch=(lock.name, key),
                              precheck=self._fence(lock, sender), also=also)
            return "nonce" in released

    def force_resync(self, chain_id: int, sender: str) -> None:
        """Make the next assignment compare with the node's pending count first."""
        self.r.hset(self.state_key(chain_id, sender), "synced_at", 0)

    def next_nonce(self, chain_id: int, sender: str) -> int | None:
        raw = self.r.hget(self.state_key(chain_id, sender), "next")
        return None if raw is None else int(raw)

"""Nonce allocation against a real Redis: uniqueness under concurrency, reuse on retry,
release without gaps, and fencing when the lock is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord, TxRequest, new_id
from worker.nonces import LockLost, NonceManager
from worker.store.records import RecordStore

SENDER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
CHAIN = 31337


def make(redis_url: str, pending: int = 0, **kw: float) -> tuple[NonceManager, RecordStore]:
    client = redis.Redis.from_url(redis_url)
    store = RecordStore(client)
    return NonceManager(client, store, lambda _addr: pending, **kw), store


def new_record(store: RecordStore, sender: str = SENDER) -> str:
    rec = TxRecord(id=new_id(), request=TxRequest(sender=sender, to=sender), chain_id=CHAIN)
    store.create(rec)
    return rec.id


def test_concurrent_assignments_are_unique_and_contiguous(redis_url: str) -> None:
    nonces, store = make(redis_url, pending=7)
    ids = [new_record(store) for _ in range(120)]
    with ThreadPoolExecutor(16) as pool:
        assigned = list(pool.map(lambda i: nonces.assign(i, CHAIN).nonce, ids))
    assert sorted(assigned) == list(range(7, 127))
    assert nonces.next_nonce(CHAIN, SENDER) == 127
    # Written onto the records themselves, not only returned.
    assert sorted(store.require(i).nonce for i in ids) == list(range(7, 127))  # type: ignore


def test_a_record_keeps_its_nonce_when_assigned_again(redis_url: str) -> None:
    nonces, store = make(redis_url)
    tx = new_record(store)
    first = nonces.assign(tx, CHAIN).nonce
    assert nonces.assign(tx, CHAIN).nonce == first
    assert nonces.next_nonce(CHAIN, SENDER) == 1


def test_the_write_releases_the_lock_and_a_write_that_did_not_happen_leaves_it_to_the_end(
        redis_url: str) -> None:
    nonces, store = make(redis_url)
    unlocks: list[Any] = []
    real_unlock = nonces._unlock

    def counting(**kwargs: Any) -> Any:
        unlocks.append(kwargs)
        return real_unlock(**kwargs)

    nonces._unlock = counting  # type: ignore[method-assign]
    tx = new_record(store)
    assert nonces.assign(tx, CHAIN).nonce == 0
    assert unlocks == []  # the assignment's script released it: no round trip of its own
    assert not store.r.exists(nonces.lock_key(CHAIN, SENDER))
    nonces.release(tx, CHAIN)
    assert unlocks == [] and not store.r.exists(nonces.lock_key(CHAIN, SENDER))

    # Another process gave the record a nonce after this caller read it: nothing is written
    # (the stored record keeps its nonce, the state its ``next``), and the lock is released.
    stale = store.require(tx)
    other, _ = make(redis_url)
    other.assign(tx, CHAIN)
    assert nonces.assign(tx, CHAIN, current=stale).nonce == 0
    assert nonces.next_nonce(CHAIN, SENDER) == 1
    assert len(unlocks) == 1 and not store.r.exists(nonces.lock_key(CHAIN, SENDER))


def test_node_pending_count_wins_when_ahead(redis_url: str) -> None:
    nonces, store = make(redis_url, pending=0, resync_seconds=0)
    assert nonces.assign(new_record(store), CHAIN).nonce == 0
    nonces.pending_count = lambda _addr: 40  # another signer used the key
    assert nonces.assign(new_record(store), CHAIN).nonce == 40


def test_released_nonce_is_reused_before_new_ones(redis_url: str) -> None:
    nonces, store = make(redis_url)
    a, b, c = (new_record(store) for _ in range(3))
    assert [nonces.assign(x, CHAIN).nonce for x in (a, b, c)] == [0, 1, 2]
    assert nonces.release(b, CHAIN)
    assert store.require(b).nonce is None
    d = new_record(store)
    assert nonces.assign(d, CHAIN).nonce == 1
    assert nonces.assign(new_record(store), CHAIN).nonce == 3


def test_releasing_the_newest_nonce_steps_back(redis_url: str) -> None:
    nonces, store = make(redis_url)
    a = new_record(store)
    nonces.assign(a, CHAIN)
    nonces.release(a, CHAIN)
    assert nonces.next_nonce(CHAIN, SENDER) == 0
    assert not nonces.release(a, CHAIN)  # nothing left to release


def test_lost_lock_writes_nothing(redis_url: str) -> None:
    nonces, store = make(redis_url)
    tx = new_record(store)
    client = redis.Redis.from_url(redis_url)

    def steal(_addr: str) -> int:
        # Simulates the lock expiring and another worker taking it mid-section.
        client.set(nonces.lock_key(CHAIN, SENDER), b"someone-else")
        return 0

    nonces.pending_count = steal
    with pytest.raises(LockLost):
        nonces.assign(tx, CHAIN)
    assert store.require(tx).nonce is None
    assert nonces.next_nonce(CHAIN, SENDER) is None


def test_a_release_after_the_lock_was_lost_hands_nothing_back(redis_url: str) -> None:
    nonces, store = make(redis_url)
    tx = new_record(store)
    nonces.assign(tx, CHAIN)
    client = redis.Redis.from_url(redis_url)
    real = store.update

    def stealing_first(*args: Any, **kwargs: Any) -> Any:
        client.set(nonces.lock_key(CHAIN, SENDER), b"someone-else")
        return real(*args, **kwargs)

    store.update = stealing_first  # type: ignore[method-assign]
    with pytest.raises(LockLost):
        nonces.release(tx, CHAIN)
    assert store.require(tx).nonce == 0
    assert nonces.next_nonce(CHAIN, SENDER) == 1


def test_a_busy_lock_is_waited_for_then_refused_without_assigning(redis_url: str) -> None:
    nonces, store = make(redis_url, lock_wait_seconds=0.3)
    holder = nonces.r.lock(nonces.lock_key(CHAIN, SENDER), timeout=30, thread_local=False)
    assert holder.acquire(blocking=False)
    tx = new_record(store)
    with pytest.raises(KvsignerError) as err:
        nonces.assign(tx, CHAIN)
    assert err.value.retryable and store.require(tx).nonce is None
    # Freed while a waiter looks again: the waiter gets it.
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(lambda: NonceManager(
            nonces.r, store, lambda _a: 0, lock_wait_seconds=10).assign(tx, CHAIN).nonce)
        holder.release()
        assert waiting.result(timeout=10) == 0

"""RecordStore against a real Redis: atomic updates, idempotency and index upkeep."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from worker.domain.errors import ValidationError
from worker.domain.records import Status, TxRecord, TxRequest, new_id
from worker.store.listing import list_page
from worker.store.records import (
    PREFIX,
    RECORD_ARGS,
    RECORD_KEYS,
    RecordNotFound,
    RecordStore,
    ScriptRefused,
    WriteWith,
    body_fingerprint,
    record_script,
)

SENDER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"


def store_for(redis_url: str) -> RecordStore:
    return RecordStore(redis.Redis.from_url(redis_url))


def record() -> TxRecord:
    return TxRecord(id=new_id(), request=TxRequest(sender=SENDER, to=SENDER), chain_id=1)


def test_concurrent_updates_lose_nothing(redis_url: str) -> None:
    store = store_for(redis_url)
    rec = record()
    store.create(rec)

    def bump(_: int) -> None:
        store.update(rec.id, lambda r: setattr(r, "attempts", r.attempts + 1))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(200)))
    assert store.require(rec.id).attempts == 200


def test_an_update_that_changes_nothing_writes_nothing(redis_url: str) -> None:
    store = store_for(redis_url)
    rec = record()
    store.create(rec)
    # A write would replace the value (and its TTL); an idle update leaves the key alone.
    store.r.expire(store.key(rec.id), 1000)
    same, _ = store.update(rec.id, lambda r: setattr(r, "attempts", r.attempts))
    assert same.attempts == 0
    assert store.r.ttl(store.key(rec.id)) > 0
    changed, _ = store.update(rec.id, lambda r: r.hashes.append("0x01"))
    assert changed.hashes == ["0x01"] and store.require(rec.id).hashes == ["0x01"]
    assert store.r.ttl(store.key(rec.id)) == -1


def test_idempotency_key_under_concurrent_creates(redis_url: str) -> None:
    store = store_for(redis_url)
    body = {"from": SENDER, "value": "1"}

    def create(_: int) -> tuple[str, bool]:
        saved, created = store.create(record(), "key-1", body_fingerprint(body))
        return saved.id, created

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(40)))
    assert len({tx_id for tx_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with pytest.raises(ValidationError) as info:
        store.create(record(), "key-1", body_fingerprint({**body, "value": "2"}))
    assert info.value.code == "idempotency_conflict"


def test_expired_records_leave_the_status_counts(redis_url: str) -> None:
    store = store_for(redis_url)
    ids = []
    for _ in range(3):
        rec = record()
        rec.created_at -= store.ttl * 1000 + 1  # old enough to have expired
        store.create(rec)
        store.update(rec.id, lambda r: r.fail("internal_error", "test"))
        ids.append(rec.id)
    assert store.count_by_status()["failed"] == 3
    store.r.delete(store.key(ids[0]), store.key(ids[1]))  # as their retention expires
    assert store.prune_expired() >= 2
    assert store.count_by_status()[Status.FAILED.value] == 1
    assert [r.id for r in list_page(store).records] == [ids[2]]


def test_an_index_too_young_to_hold_expired_records_is_left_unread(redis_url: str) -> None:
    store = RecordStore(redis.Redis.from_url(redis_url), ttl_seconds=3600)
    young = record()
    store.create(young)
    store.update(young.id, lambda r: r.fail("internal_error", "test"))
    store.r.delete(store.key(young.id))  # deleted by hand: it cannot have expired yet
    assert store.prune_expired() == 0  # no index is read until its oldest is an hour old
    assert store.r.zcard(f"{PREFIX}idx:all") == 1
    old = record()
    old.created_at -= 3600 * 1000 + 1  # now the oldest, and old enough to have expired
    store.create(old)
    assert store.prune_expired() == 1  # that batch is read: the young entry goes with it
    assert store.r.zcard(f"{PREFIX}idx:all") == 1  # old's: its record still exists


def test_updates_from_an_outdated_memo_apply_to_the_stored_record(redis_url: str) -> None:
    # Two processes' stores: each remembers the text it last saw, and each sees the other's
    # writes only through the compare-and-set.
    a, b = store_for(redis_url), store_for(redis_url)
    rec = record()
    a.create(rec)
    assert a.require(rec.id).attempts == 0  # a's memo: attempts 0
    b.update(rec.id, lambda r: setattr(r, "attempts", 1))
    # A change that does nothing to a's memo but something to the stored record.
    def only_after_first_attempt(r: TxRecord) -> None:
        if r.attempts == 1:
            r.hashes.append("0x01")

    changed, _ = a.update(rec.id, only_after_first_attempt)
    assert (changed.attempts, changed.hashes) == (1, ["0x01"])
    b.update(rec.id, lambda r: setattr(r, "attempts", 2))  # a's memo: attempts 1 again

    def refuses_before_the_second_attempt(r: TxRecord) -> str:
        if r.attempts < 2:
            raise ValueError("too early")
        return "ok"

    # Refused by a's memo, allowed by the stored record: the stored record decides.
    assert a.update(rec.id, refuses_before_the_second_attempt)[1] == "ok"

    def refuses(r: TxRecord) -> None:
        raise ValueError("never")

    with pytest.raises(ValueError):  # refused by the stored record: the refusal stands
        b.update(rec.id, refuses)
    a.update(rec.id, lambda r: setattr(r, "attempts", r.attempts + 1))
    b.update(rec.id, lambda r: setattr(r, "attempts", r.attempts + 1))  # b's memo is stale
    stored = store_for(redis_url).require(rec.id)
    assert (stored.attempts, stored.hashes) == (4, ["0x01"])


def test_concurrent_updates_from_two_stores_lose_nothing(redis_url: str) -> None:
    stores = [store_for(redis_url), store_for(redis_url)]
    rec = record()
    stores[0].create(rec)

    def bump(i: int) -> None:
        stores[i % 2].update(rec.id, lambda r: setattr(r, "attempts", r.attempts + 1))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(200)))
    assert store_for(redis_url).require(rec.id).attempts == 200


def test_an_update_moves_the_indexes_with_the_status(redis_url: str) -> None:
    store = store_for(redis_url)
    rec = record()
    store.create(rec)
    member = f"{rec.created_at:015d}:{rec.id}"

    def indexed() -> dict[str, bool]:
        return {s.value: store.r.zscore(f"kvsigner:idx:status:{s.value}", member) is not None
                for s in Status}

    store.update(rec.id, lambda r: r.transition(Status.SIGNED))
    assert [s for s, present in indexed().items() if present] == ["signed"]
    assert store.r.sismember("kvsigner:active", rec.id)
    # A caller's script (other keys in the same atomic write) keeps them the same way.
    script = store.r.register_script(record_script(f"""
local done = compare_and_set(KEYS, ARGV)
if done[1] == 1 then redis.call('SET', KEYS[{RECORD_KEYS + 1}], ARGV[{RECORD_ARGS + 1}]) end
return done
"""))
    also = WriteWith(script, lambda r: (["kvsigner:test:also"], [r.status.value]))
    store.update(rec.id, lambda r: r.transition(Status.SUBMITTED), also)
    assert [s for s, present in indexed().items() if present] == ["submitted"]
    assert store.r.get("kvsigner:test:also") == b"submitted"
    assert store.r.ttl(store.key(rec.id)) == -1
    store.update(rec.id, lambda r: r.fail("internal_error", "test"))
    assert [s for s, present in indexed().items() if present] == ["failed"]
    assert not store.r.sismember("kvsigner:active", rec.id)
    assert 0 < store.r.ttl(store.key(rec.id)) <= store.ttl


def test_a_script_that_refuses_writes_nothing_and_says_so(redis_url: str) -> None:
    store = store_for(redis_url)
    rec = record()
    store.create(rec)
    refuse = WriteWith(store.r.register_script(record_script("return {-7}")),
                       lambda r: ([], []))
    with pytest.raises(ScriptRefused) as refused:
        store.update(rec.id, lambda r: r.transition(Status.SIGNED), refuse)
    assert refused.value.code == -7
    assert store.require(rec.id).status == Status.QUEUED
    # A stale memo meets the stored record first: the change is made again on it.
    other = store_for(redis_url)
    other.update(rec.id, lambda r: r.transition(Status.SIGNED))
    touched = WriteWith(store.r.register_script(record_script(
        "local done = compare_and_set(KEYS, ARGV)\n"
        "if done[1] == 1 then redis.call('INCR', KEYS[5]) end\nreturn done\n")),
        lambda r: (["kvsigner:test:writes"], []))
    store.update(rec.id, lambda r: r.transition(Status.SUBMITTED), touched)
    assert store.require(rec.id).status == Status.SUBMITTED
    assert store.r.get("kvsigner:test:writes") == b"1"


def test_an_update_of_a_vanished_record_says_so(redis_url: str) -> None:
    store = store_for(redis_url)
    rec = record()
    store.create(rec)
    store.require(rec.id)  # remembered
    store.r.delete(store.key(rec.id))
    with pytest.raises(RecordNotFound):
        store.update(rec.id, lambda r: setattr(r, "attempts", 1))
    with pytest.raises(RecordNotFound):
        store_for(redis_url).update(rec.id, lambda r: setattr(r, "attempts", 1))


def command_calls(client: redis.Redis, command: str) -> int:
    stats: dict = client.info("commandstats")  # type: ignore[assignment]
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


OTHER = "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2"


def saved(store: RecordStore, mine: int, theirs: int) -> tuple[list[TxRecord], list[TxRecord]]:
    """``mine`` new records of SENDER and ``theirs`` of OTHER, saved."""
    recs = ([record() for _ in range(mine)],
            [TxRecord(id=new_id(), request=TxRequest(sender=OTHER, to=OTHER), chain_id=1)
             for _ in range(theirs)])
    for rec in recs[0] + recs[1]:
        store.create(rec)
    return recs


def test_active_records_are_read_in_batches_and_filtered_before_parsing(
        redis_url: str) -> None:
    store = store_for(redis_url)
    mine, theirs = saved(store, 7, 5)
    store.update(mine[0].id, lambda r: r.fail("internal_error", "test"))  # leaves active
    store.r.delete(store.key(mine[1].id))  # vanished, still named in the active set
    live_mine = {rec.id for rec in mine[2:]}

    gets, mgets = command_calls(store.r, "get"), command_calls(store.r, "mget")
    seen = dict(store.active_records(batch=4))
    assert command_calls(store.r, "get") == gets  # never one read per record
    assert command_calls(store.r, "mget") - mgets == 3  # 11 ids, 4 at a time
    assert seen.pop(mine[1].id) is None
    assert {i for i, rec in seen.items() if rec is not None} == \
        live_mine | {rec.id for rec in theirs}

    mentioned = dict(store_for(redis_url).active_records(mentioning=SENDER, batch=4))
    assert mentioned.pop(mine[1].id) is None
    assert set(mentioned) == live_mine
    assert all(rec is not None and rec.sender == SENDER for rec in mentioned.values())


def test_listings_with_both_filters_walk_the_smaller_index(redis_url: str) -> None:
    store = store_for(redis_url)
    mine, theirs = saved(store, 30, 5)
    for rec in mine[:3] + theirs[:1]:
        store.update(rec.id, lambda r: r.transition(Status.SIGNED))

    def newest_first(recs: list[TxRecord]) -> list[str]:
        return [r.id for r in sorted(recs, key=lambda r: (r.created_at, r.id), reverse=True)]

    read: list[str] = []

    def walk(sender: str, status: str, limit: int) -> list[str]:
        seen: list[str] = []
        cursor = None
        lister = store_for(redis_url)
        real = lister.get_many

        def counting(ids: Sequence[str]) -> list[TxRecord | None]:
            read.extend(ids)
            return real(ids)

        lister.get_many = counting  # type: ignore[method-assign]
        while True:
            page = list_page(lister, sender, status, limit, cursor)
            seen += [r.id for r in page.records]
            cursor = page.next_cursor
            if cursor is None:
                return seen

    gets = command_calls(store.r, "get")
    # The status index (4 members) is walked for the signed ones of a sender of 30...
    assert walk(SENDER, "signed", 2) == newest_first(mine[:3])
    assert len(set(read)) <= 4
    # ...and the sender index (5) for the queued ones among 31.
    read.clear()
    assert walk(OTHER, "queued", 3) == newest_first(theirs[1:])
    assert len(set(read)) <= 5
    assert walk(SENDER, "queued", 10) == newest_first(mine[3:])
    assert walk(SENDER, "failed", 10) == []
    assert command_calls(store.r, "get") == gets  # records are read by MGET, never one by one
    store.r.delete(store.key(mine[5].id))  # expired: dropped from the walked index
    assert mine[5].id not in walk(SENDER, "queued", 50)
    assert store.r.zscore(f"kvsigner:idx:from:{SENDER}",
                          f"{mine[5].created_at:015d}:{mine[5].id}") is None

"""Changes published together (a drain's batch, a receipt round) against a real Redis: one
round trip for a whole batch when nobody subscribes, every event stored when somebody does,
and nothing lost when the block fails."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import redis

from tests.integration.redis_trips import counted_trips
from worker import metrics
from worker.domain.records import Status, TxRecord, TxRequest, new_id
from worker.settings import Settings
from worker.store.records import RecordStore
from worker.webhooks import keys, runtime
from worker.webhooks.events import EVENT_TYPES
from worker.webhooks.publish import changed, together

pytestmark = pytest.mark.integration


class Owner:
    """What ``changed`` and ``together`` use of ``Services``."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client


@pytest.fixture
def parts(redis_url: str) -> Iterator[tuple[RecordStore, Owner, list[str], runtime.Webhooks]]:
    client = redis.Redis.from_url(redis_url)
    queued: list[str] = []
    webhooks = runtime.build(client, Settings(redis_url=redis_url),
                             lambda did, countdown: queued.append(did))
    owner = Owner(client)
    runtime.use(owner, webhooks)  # type: ignore[arg-type]
    yield RecordStore(client), owner, queued, webhooks
    client.close()


def advanced(store: RecordStore, *statuses: Status) -> TxRecord:
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "33" * 20), chain_id=1)
    store.create(rec)
    for status in statuses:
        rec, _ = store.update(rec.id, partial(TxRecord.transition, status=status))
    return rec


def stage_total(client: redis.Redis, stage: str) -> int:
    prefix = metrics.field(stage)[:-1] + ","
    return sum(int(n) for name, n in client.hgetall(metrics.STAGE_SECONDS.key).items()
               if name.decode().startswith(prefix) and not name.decode().endswith('"sum"]'))


def test_a_batch_of_changes_costs_one_round_trip_when_nobody_subscribes(parts: Any) -> None:
    store, owner, queued, _ = parts
    live = [advanced(store, Status.SIGNED) for _ in range(3)]
    done = advanced(store, Status.SIGNED, Status.SUBMITTED, Status.MINED, Status.CONFIRMED)
    store.r.sadd(keys.OPEN, *[r.id for r in live], done.id)
    with together(owner):  # type: ignore[arg-type]  # Redis learns the stage script first
        changed(owner, advanced(store, Status.SIGNED))  # type: ignore[arg-type]
    trips = counted_trips(store.r)
    with together(owner):  # type: ignore[arg-type]
        for rec in [*live, done]:
            changed(owner, rec)  # type: ignore[arg-type]
            changed(owner, rec)  # type: ignore[arg-type]  # the same version twice
        assert trips == []  # nothing until the block ends
    # The subscription check, the open set, every stage sample; then closing the finished one.
    assert trips == ["pipeline", "SREM"]
    assert stage_total(store.r, "signed") == 5 and stage_total(store.r, "mined") == 1
    assert {r.id.encode() for r in live} <= store.r.smembers(keys.OPEN)
    assert not store.r.sismember(keys.OPEN, done.id)
    assert queued == []
    trips.clear()
    with together(owner):  # type: ignore[arg-type]
        for rec in live:
            changed(owner, rec)  # type: ignore[arg-type]
    assert trips == []  # nothing new since: no round trip at all


def test_with_a_subscriber_every_kept_change_is_published(parts: Any) -> None:
    store, owner, queued, webhooks = parts
    webhooks.subscriptions.create("http://127.0.0.1:9/sub", list(EVENT_TYPES), None)
    rec = advanced(store)
    with together(owner):  # type: ignore[arg-type]
        for status in (Status.SIGNED, Status.SUBMITTED, Status.MINED):
            rec, _ = store.update(rec.id, partial(TxRecord.transition, status=status))
            changed(owner, rec)  # type: ignore[arg-type]
        with together(owner):  # type: ignore[arg-type]  # nested: adds to the outer block
            rec, _ = store.update(rec.id, partial(TxRecord.transition,
                                                  status=Status.CONFIRMED))
            changed(owner, rec)  # type: ignore[arg-type]
        assert queued == []
    [sub] = webhooks.subscriptions.all()
    chain = [m.decode() for m in store.r.zrange(keys.chain(rec.id, sub.id), 0, -1)]
    events = [webhooks.deliveries.get(d).event_id.rsplit("_", 1)[1]  # type: ignore[union-attr]
              for d in chain]
    # submitted, mined and confirmed ("signed" is no event), from the last version alone.
    assert events == ["1", "2", "3"]
    assert queued == chain[:1]  # one chain per target: its first delivery is queued
    assert not store.r.sismember(keys.OPEN, rec.id)


def test_a_block_that_raises_still_publishes_what_it_kept(parts: Any) -> None:
    store, owner, _, _ = parts
    rec = advanced(store, Status.SIGNED)
    with pytest.raises(RuntimeError), together(owner):  # type: ignore[arg-type]
        changed(owner, rec)  # type: ignore[arg-type]
        raise RuntimeError("the batch failed half-way")
    assert stage_total(store.r, "signed") == 1


def test_a_failed_publication_still_records_the_stage_times(parts: Any) -> None:
    store, owner, _, _ = parts
    rec = advanced(store, Status.SIGNED, Status.SUBMITTED)

    class Broken:
        def publish_many(self, records: Any, riders: Any) -> int:
            raise redis.ConnectionError("down")

    runtime.use(owner, type("Parts", (), {"publisher": Broken()})())  # type: ignore[arg-type]
    with together(owner):  # type: ignore[arg-type]
        changed(owner, rec)  # type: ignore[arg-type]
    assert stage_total(store.r, "submitted") == 1

"""The webhook outbox, delivery and sweep against a real Redis and a real receiver, without
the stack: one change published by many workers, DNS rebinding, missed publications, and who
receives events when nobody subscribed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import redis

from tests.integration.webhook_receiver import TX_SECRET, Receiver, running_receiver
from worker import metrics
from worker.domain.records import Status, TxRecord, TxRequest, new_id
from worker.setting_values import Secret
from worker.settings import Settings
from worker.store.leases import Leases
from worker.store.records import RecordStore
from worker.webhooks import keys, runtime
from worker.webhooks.events import EVENT_TYPES
from worker.webhooks.publish import open_from_creation, publish
from worker.webhooks.sweep import catch_up

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec


@pytest.fixture
def direct(redis_url: str) -> Iterator[tuple[RecordStore, list[str], Callable[..., Any]]]:
    client = redis.Redis.from_url(redis_url)
    store = RecordStore(client)
    queued: list[str] = []

    def make(resolver: Any = None, **extra: Any) -> runtime.Webhooks:
        settings = Settings(redis_url=redis_url, webhook_secret=Secret(TX_SECRET),
                            webhook_retry_schedule="0.2").replace(**extra)
        kwargs = {"resolver": resolver} if resolver else {}
        return runtime.build(client, settings, lambda did, cd: queued.append(did), **kwargs)

    yield store, queued, make
    client.close()


def new_record(store: RecordStore, url: str, *statuses: Status) -> TxRecord:
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1,
                   webhook_url=url)
    store.create(rec)
    for status in statuses:
        rec, _ = store.update(rec.id, partial(TxRecord.transition, status=status))
    return rec


def test_publishing_one_change_from_many_workers_makes_one_delivery(
        direct: Any, receiver: Receiver) -> None:
    store, queued, make = direct
    rec = new_record(store, receiver.url("/tx"), Status.SIGNED, Status.SUBMITTED, Status.MINED)
    # Three workers: separate processes share nothing in memory, only Redis.
    workers = [make(webhook_allow="loopback") for _ in range(3)]
    threads = [threading.Thread(target=w.publisher.publish, args=(rec,))
               for w in workers for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = [m.decode() for m in store.r.zrange(f"kvsigner:wh:chain:{rec.id}:tx", 0, -1)]
    assert len(chain) == 2 and store.r.zcard("kvsigner:wh:idx:all") == 2  # submitted, mined
    first, later = chain
    assert queued == [first]  # only the chain's first delivery is queued
    # Per-target order: the second event waits while the first is pending.
    assert workers[1].deliverer.attempt(later) == "waiting"
    with Leases(store.r).hold(f"wh:{first}", 5):
        assert workers[1].deliverer.attempt(first) == "busy"  # no concurrent attempt
    assert workers[2].deliverer.attempt(first) == "delivered"
    assert workers[0].deliverer.attempt(first) == "done"  # never re-sent
    assert workers[0].deliverer.attempt(later) == "delivered"
    kinds = [h.event["type"] for h in receiver.all_for("/tx") if h.event["data"]["id"] == rec.id]
    assert kinds == ["transaction.submitted", "transaction.mined"]


def test_a_host_resolving_to_loopback_is_refused_at_delivery(
        direct: Any, receiver: Receiver) -> None:
    store, _queued, make = direct
    port = receiver.server.server_address[1]
    wh = make(resolver=lambda host, p: ["127.0.0.1"])  # DNS now points inside
    rec = new_record(store, f"http://hooks.example.test:{port}/rebind", Status.SIGNED,
                     Status.SUBMITTED)
    assert wh.publisher.publish(rec) == 1
    [did] = [m.decode().split(":")[1] for m in store.r.zrange("kvsigner:wh:idx:all", 0, -1)]
    assert wh.deliverer.attempt(did) == "failed"
    delivery = wh.deliveries.get(did)
    assert delivery is not None and delivery.status == "failed"
    assert delivery.reason is not None and "loopback" in delivery.reason
    assert "127.0.0.1" in delivery.reason and len(delivery.attempts) == 1
    assert receiver.all_for("/rebind") == []


def test_the_sweep_publishes_changes_the_hook_missed_and_gives_up_after_the_window(
        direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback", webhook_retry_window_seconds=0)
    rec = new_record(store, "http://127.0.0.1:9/closed", Status.SIGNED)
    wh.publisher.publish(rec)  # nothing to deliver yet; the record is now open
    store.update(rec.id, lambda r: r.transition(Status.SUBMITTED))  # the hook never ran
    assert catch_up(wh, store) == 1
    did = queued[-1]
    assert wh.deliverer.attempt(did) == "failed"  # connection refused, window over
    delivery = wh.deliveries.get(did)
    assert delivery is not None and delivery.reason is not None
    assert delivery.reason.startswith("gave up after 1 attempts")


def test_a_record_with_a_webhook_is_open_from_its_creation(direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback")
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1,
                   webhook_url="http://127.0.0.1:9/hook")
    store.create(rec, also=open_from_creation(rec))
    assert store.r.sismember(keys.OPEN, rec.id)
    # Every worker that changed it died before publishing: the sweep still finds it.
    store.update(rec.id, partial(TxRecord.transition, status=Status.SIGNED))
    store.update(rec.id, partial(TxRecord.transition, status=Status.SUBMITTED))
    assert queued == []
    assert catch_up(wh, store) == 1
    [delivery] = [wh.deliveries.get(d) for d in queued]
    assert delivery is not None and delivery.target == "tx"


def test_a_record_without_a_webhook_is_open_from_its_creation_too(direct: Any) -> None:
    # A subscriber's events are not lost to a worker dying before it published its change.
    store, queued, make = direct
    wh = make(webhook_allow="loopback")
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1)
    store.create(rec, also=open_from_creation(rec))
    assert store.r.sismember(keys.OPEN, rec.id)
    assert catch_up(wh, store) == 0  # nobody subscribed: nothing stored, still open
    assert store.r.sismember(keys.OPEN, rec.id)
    time.sleep(0.01)
    sub = wh.subscriptions.create("http://127.0.0.1:9/sub", list(EVENT_TYPES), None)
    time.sleep(0.01)
    for status in (Status.SIGNED, Status.SUBMITTED, Status.MINED, Status.CONFIRMED):
        store.update(rec.id, partial(TxRecord.transition, status=status))  # never published
    assert catch_up(wh, store) == 3  # submitted, mined, confirmed ("signed" is no event)
    assert {wh.deliveries.get(d).target for d in queued} == {sub.id}  # type: ignore[union-attr]
    assert catch_up(wh, store) == 0
    assert not store.r.sismember(keys.OPEN, rec.id)  # terminal and published: closed


def test_with_no_target_nothing_is_stored_and_later_subscribers_get_only_later_events(
        direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback")
    rec = new_record(store, "", Status.SIGNED, Status.SUBMITTED)
    assert store.r.scard(keys.SUBS) == 0
    assert wh.publisher.publish(rec) == 0
    assert store.r.get(keys.cursor(rec.id)) is None and store.r.zcard("kvsigner:wh:idx:all") == 0
    assert store.r.sismember(keys.OPEN, rec.id)  # still watched by the sweep
    time.sleep(0.01)
    sub = wh.subscriptions.create("http://127.0.0.1:9/sub", list(EVENT_TYPES), None)
    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.MINED))
    # Published from the start of the history, but "submitted" predates the subscription.
    assert wh.publisher.publish(rec) == 1
    [delivery] = [wh.deliveries.get(d) for d in queued]
    assert delivery is not None and delivery.target == sub.id
    assert delivery.event_id.endswith(f"_{len(rec.history) - 1}")
    wh.subscriptions.delete(sub.id)
    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.CONFIRMED))
    fresh = make(webhook_allow="loopback")  # another process: no memory of this record
    assert fresh.publisher.publish(rec) == 0
    assert not store.r.sismember(keys.OPEN, rec.id)  # terminal with no subscriber: closed


def stage_count(client: redis.Redis, stage: str) -> int:
    """How often ``stage`` was counted, over every bucket of the histogram."""
    counts = client.hgetall(metrics.STAGE_SECONDS.key)
    prefix = metrics.field(stage)[:-1] + ","  # '["signed",' then the bucket
    return sum(int(n) for name, n in counts.items()  # type: ignore[union-attr]
               if name.decode().startswith(prefix) and not name.decode().endswith('"sum"]'))


def test_stage_metrics_ride_on_the_publication_round_trip(direct: Any) -> None:
    store, _, make = direct
    wh = make(webhook_allow="loopback")
    client = store.r
    rec = new_record(store, "", Status.SIGNED)
    trips: list[str] = []
    real = client.pipeline

    def counting(*args: Any, **kwargs: Any) -> Any:
        trips.append("pipeline")
        return real(*args, **kwargs)

    real_command = client.execute_command

    def counting_command(*args: Any, **kwargs: Any) -> Any:
        trips.append(str(args[0]))
        return real_command(*args, **kwargs)

    client.pipeline = counting  # type: ignore[method-assign]
    client.execute_command = counting_command  # type: ignore[method-assign]
    sample = metrics.stage_sample(rec)
    assert sample is not None
    client.script_flush()  # a Redis that does not know the script yet: it is loaded
    wh.publisher.publish(rec, sample)
    assert stage_count(client, "signed") == 1
    assert metrics.stage_sample(rec) is None  # counted: this process asks no more

    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.SUBMITTED))
    trips.clear()
    wh.publisher.publish(rec, metrics.stage_sample(rec))
    assert trips == ["pipeline"]  # the subscription check carried it
    assert stage_count(client, "submitted") == 1
    # A publication that needs no trip (nothing new) still records what rides on it.
    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.MINED))
    wh.publisher.publish(rec)
    wh.publisher.publish(rec, metrics.stage_sample(rec))
    assert stage_count(client, "mined") == 1


def test_stage_metrics_are_recorded_when_the_publication_fails(direct: Any) -> None:
    store, _, _ = direct
    rec = new_record(store, "", Status.SIGNED)

    class Broken:
        def publish(self, record: TxRecord, rider: Any = None) -> int:
            raise redis.ConnectionError("down")

    class Owner:  # the two things ``publish`` uses of ``Services``
        redis = store.r

    owner = Owner()
    runtime.use(owner, type("Parts", (), {"publisher": Broken()})())  # type: ignore[arg-type]
    publish(owner, rec, metrics.stage_sample(rec))  # type: ignore[arg-type]
    assert stage_count(store.r, "signed") == 1

"""Receipt rounds over a real Redis, anvil and the Key Vault emulator: one round follows
many records in a few node requests, hands slow cases off to their own look, and never
drops a record it did not see finished."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ops.processes import ManagedProcess
from tests.integration.api.helpers import vault_env
from tests.integration.redis_trips import counted_trips
from tests.integration.stack_helpers import rpc
from worker.domain.records import Status, TxRecord
from worker.services import Services
from worker.settings import Settings
from worker.steps import Step
from worker.store.tracked import TrackedSet
from worker.submit import submit_transaction
from worker.sweeper import sweep_once

pytestmark = pytest.mark.integration

TTL = 10.0


@pytest.fixture
def services(redis_url: str, emulator: ManagedProcess,
             anvil: ManagedProcess) -> Iterator[Services]:
    node = str(anvil.extra["url"])
    settings = Settings.from_env(vault_env(emulator), node_url=node, redis_url=redis_url,
                                 receipt_poll_seconds=0.2, stuck_seconds=60.0)
    svc = Services(settings)
    for account in svc.accounts():
        rpc(node, "anvil_setBalance", account.address, hex(10**21))
    yield svc
    rpc(node, "evm_setAutomine", True)
    svc.close()


def broadcast(svc: Services, count: int) -> list[str]:
    """``count`` transfers taken to ``submitted`` by the pipeline, added to the set."""
    sender = svc.accounts()[0].address
    ids = []
    for _ in range(count):
        rec, _ = submit_transaction(svc, {"from": sender, "to": sender, "value": "1"},
                                    enqueue=lambda tx_id: None)
        assert svc.pipeline.process(rec.id).kind == "track"
        svc.tracked.add(rec.id, 0.0, TTL)
        ids.append(rec.id)
    return ids


def count_node_requests(svc: Services) -> list[str]:
    """Records what each HTTP request to the node carried (one entry per request)."""
    sent: list[str] = []
    real = svc.node._post

    def counting(body: bytes, what: str) -> Any:
        sent.append(what)
        return real(body, what)

    svc.node._post = counting  # type: ignore[method-assign]
    return sent


def status(svc: Services, tx_id: str) -> Status:
    rec = svc.store.get(tx_id)
    assert rec is not None
    return rec.status


def test_one_round_confirms_many_records_in_two_node_requests(services: Services) -> None:
    ids = broadcast(services, 12)
    sent = count_node_requests(services)
    result = services.rounds.run()
    assert result.looked == 12 and result.handoffs == []
    assert all(status(services, i) == Status.CONFIRMED for i in ids)
    # Every receipt and the block number in one batch; the blocks they name in another.
    assert sent == ["batch", "batch"]
    assert services.tracked.size() == 0
    rec = services.store.get(ids[0])
    assert rec is not None and rec.receipt is not None
    assert rec.receipt["transactionHash"] == rec.hash


def test_a_broadcast_record_is_looked_at_by_the_next_round(services: Services) -> None:
    # Not a poll later: on anvil (instant blocks) the very next round finds the receipt.
    sender = services.accounts()[0].address
    rec, _ = submit_transaction(services, {"from": sender, "to": sender, "value": "1"},
                                enqueue=lambda tx_id: None)
    step = services.pipeline.process(rec.id)
    assert step.kind == "track"
    services.tracked.add(rec.id, step.delay, TTL)
    assert services.rounds.run().looked == 1
    assert status(services, rec.id) == Status.CONFIRMED


def test_unmined_records_stay_followed_and_a_stuck_one_is_handed_off(
        services: Services) -> None:
    node = services.settings.node_url
    rpc(node, "evm_setAutomine", False)
    ids = broadcast(services, 2)
    assert services.rounds.run().handoffs == []
    assert [status(services, i) for i in ids] == [Status.SUBMITTED] * 2
    assert services.tracked.size() == 2 and services.tracked.next_due_in() is not None

    # The first has waited past the stuck time: its fee bump gets a look of its own, and
    # it stays in the set meanwhile (nothing is lost if that look is).
    services.store.update(ids[0], broadcast_ago(120))
    time.sleep(0.25)
    result = services.rounds.run()
    assert result.handoffs == [(ids[0], Step("inspect", 0.0, "not mined in time"))]
    assert services.tracked.contains(ids[0]) and services.tracked.contains(ids[1])

    rpc(node, "evm_mine")
    time.sleep(0.25)
    services.rounds.run()
    assert [status(services, i) for i in ids] == [Status.CONFIRMED] * 2


def test_a_transaction_the_node_forgot_is_handed_off(services: Services) -> None:
    node = services.settings.node_url
    rpc(node, "evm_setAutomine", False)
    [tx_id] = broadcast(services, 1)
    services.store.update(tx_id, broadcast_ago(5))  # past the presence check, not stuck
    rpc(node, "anvil_dropTransaction", _hash(services, tx_id))
    time.sleep(0.01)
    sent = count_node_requests(services)
    result = services.rounds.run()
    assert result.handoffs == [(tx_id, Step("inspect", 0.0, "unknown to the node"))]
    assert sent == ["batch", "batch"]  # receipts + block number, then presence
    # The look of its own broadcasts it again and it is mined.
    services.pipeline.track(tx_id)
    rpc(node, "evm_mine")
    time.sleep(0.25)
    services.rounds.run()
    assert status(services, tx_id) == Status.CONFIRMED


def test_node_down_keeps_every_record_for_a_later_round(services: Services) -> None:
    ids = broadcast(services, 3)
    closed = Services(services.settings.replace(node_url="http://127.0.0.1:9"))
    closed.__dict__["pipeline"] = services.pipeline
    result = closed.rounds.run()
    assert result.looked == 3 and result.handoffs == []
    assert all(status(services, i) == Status.SUBMITTED for i in ids)
    until = services.tracked.next_due_in()
    assert until is not None and until > 1.5  # asked again only after a pause
    assert services.tracked.size() == 3
    closed.close()


def test_an_unreadable_record_holds_up_no_other(services: Services) -> None:
    ids = broadcast(services, 2)
    services.redis.set("kvsigner:tx:bad", "{not json")
    services.tracked.add("bad", 0.0, TTL)
    result = services.rounds.run()
    assert result.looked == 3
    assert [status(services, i) for i in ids] == [Status.CONFIRMED] * 2
    until = services.tracked.next_due_in()
    assert services.tracked.contains("bad") and until is not None and until > 20


def test_a_fault_in_one_record_holds_up_no_other(services: Services,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = broadcast(services, 2)
    tracker = services.rounds.tracker
    real = tracker.follow

    def failing(rec: TxRecord, *args: Any, **kwargs: Any) -> Step:
        if rec.id == first:
            raise RuntimeError("a bug in one record's handling")
        return real(rec, *args, **kwargs)

    monkeypatch.setattr(tracker, "follow", failing)
    assert services.rounds.run().handoffs == []
    assert status(services, second) == Status.CONFIRMED
    assert status(services, first) == Status.SUBMITTED and services.tracked.contains(first)
    monkeypatch.setattr(tracker, "follow", real)
    time.sleep(0.25)
    services.rounds.run()
    assert status(services, first) == Status.CONFIRMED


def test_records_that_left_tracking_are_dropped_from_the_set(services: Services) -> None:
    [tx_id] = broadcast(services, 1)
    services.store.update(tx_id, _back_to_queued)
    assert services.rounds.run().handoffs == []
    assert not services.tracked.contains(tx_id)


def test_a_stale_round_never_drops_a_record_added_again(services: Services) -> None:
    tracked = services.tracked
    tracked.add("a", 0.0, TTL)
    [(member, score)] = tracked.due(10)
    tracked.add("a", 5.0, TTL)  # broadcast again while the round ran
    assert tracked.settle({member: (score, None)}) == 0
    assert tracked.contains("a")
    fresh = tracked.r.zscore("kvsigner:tracked", "a")
    assert isinstance(fresh, float) and fresh > score
    assert tracked.settle({"a": (fresh, None)}) == 1
    assert not tracked.contains("a")


def test_one_chain_of_rounds_at_a_time(services: Services) -> None:
    tracked = TrackedSet(services.redis)
    first = tracked.add("a", 0.0, TTL)
    assert first is not None
    assert tracked.add("b", 0.0, TTL) is None  # a chain is alive: no second one
    assert tracked.start_chain(TTL) is None
    following = tracked.advance(first, TTL)
    assert following is not None and following != first
    # A second delivery of the same message, or a made-up token, ends there.
    assert tracked.advance(first, TTL) is None
    assert tracked.advance("nonsense", TTL) is None
    assert tracked.advance(following, TTL) is not None


def test_a_dead_chain_is_replaced_after_it_expires(services: Services) -> None:
    tracked = services.tracked
    old = tracked.start_chain(0.2)
    assert old is not None
    time.sleep(0.3)
    new = tracked.start_chain(TTL)
    assert new is not None
    assert tracked.advance(old, TTL) is None  # the old chain's message ends
    assert tracked.advance(new, TTL) is not None


def broadcast_ago(seconds: float) -> Callable[[TxRecord], None]:
    def change(rec: TxRecord) -> None:
        rec.broadcast_at = int((time.time() - seconds) * 1000)
    return change


def test_the_sweep_queues_only_what_stopped_moving(services: Services) -> None:
    followed, unfollowed = broadcast(services, 2)
    services.redis.zrem("kvsigner:tracked", unfollowed)  # e.g. its round's chain was lost
    sender = services.accounts()[0].address
    stalled, _ = submit_transaction(services, {"from": sender, "to": sender, "value": "1"},
                                    enqueue=lambda tx_id: None)
    fresh, _ = submit_transaction(services, {"from": sender, "to": sender, "value": "2"},
                                  enqueue=lambda tx_id: None)
    services.store.update(stalled.id, lambda r: setattr(r, "updated_at", 0))
    services.redis.sadd("kvsigner:active", "vanished")

    swept = sorted((tx_id, step.kind) for tx_id, step in sweep_once(services))
    assert swept == sorted([(unfollowed, "track"), (stalled.id, "process")])
    assert not services.redis.sismember("kvsigner:active", "vanished")
    assert services.redis.sismember("kvsigner:active", fresh.id)
    assert list(sweep_once(services)) == []  # once per period, however many sweepers run
    assert services.tracked.followed([followed, unfollowed, "x"]) == {followed}


def _back_to_queued(rec: TxRecord) -> None:
    rec.nonce, rec.raw, rec.hash, rec.sent, rec.broadcast_at = None, None, None, False, None
    rec.transition(Status.QUEUED, "test: nonce taken")


def _hash(svc: Services, tx_id: str) -> str:
    rec = svc.store.get(tx_id)
    assert rec is not None and rec.hash is not None
    return rec.hash


def test_a_batch_of_records_joins_the_rounds_in_one_round_trip(services: Services) -> None:
    tracked = TrackedSet(services.redis)
    trips = counted_trips(tracked.r)
    token = tracked.add_many({"a": 0.0, "b": 0.0, "c": 30.0}, TTL)
    assert trips == ["pipeline"] and token is not None  # and it started the chain
    assert [tx_id for tx_id, _ in tracked.due(10)] == ["a", "b"]  # c is due later
    assert tracked.followed(["a", "b", "c", "d"]) == {"a", "b", "c"}
    assert tracked.add_many({"d": 0.0}, TTL) is None  # the chain is alive

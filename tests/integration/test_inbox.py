"""The inbox against a real Redis: one pending drain at a time, batches taken oldest first,
the next drain claimed while more wait, and the enqueue and drain functions built on it."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
import redis

from worker import tasks
from worker.steps import Step
from worker.store import inbox as inbox_module
from worker.store.inbox import Inbox
from worker.store.leases import Leases
from worker.submit import InboxEnqueue

pytestmark = pytest.mark.integration


@pytest.fixture
def inbox(redis_url: str) -> Inbox:
    return Inbox(redis.Redis.from_url(redis_url))


def test_only_the_put_that_finds_no_pending_drain_sends_one(inbox: Inbox) -> None:
    assert inbox.put("a") is True
    assert inbox.put("b") is False  # a drain is pending: it will take b too
    batch = inbox.take(4)
    assert (batch.ids, batch.more) == (["a", "b"], False)
    assert inbox.put("c") is True  # the drain cleared the mark before it took anything


def test_a_backlog_is_taken_in_batches_and_the_next_drain_claimed(inbox: Inbox) -> None:
    for tx_id in "abcdef":
        inbox.put(tx_id)
    first = inbox.take(4)
    assert (first.ids, first.more) == (list("abcd"), True)
    assert inbox.put("g") is False  # the taker claimed the mark: its next drain is coming
    second = inbox.take(4)
    assert (second.ids, second.more) == (["e", "f", "g"], False)
    assert inbox.take(4).ids == [] and inbox.waiting() == 0


def test_a_deep_backlog_goes_in_larger_batches_and_its_end_in_small_ones(
        inbox: Inbox) -> None:
    ids = [f"t{i:03d}" for i in range(300)]
    for tx_id in ids:
        inbox.put(tx_id)
    batches = []
    while batch := inbox.take(4, 16, 16).ids:
        batches.append(batch)
    sizes = [len(b) for b in batches]
    assert sizes[0] == 16  # a sixteenth of 300, at most 16
    assert sizes == sorted(sizes, reverse=True)  # shrinking with the backlog
    assert sizes[-4:] == [4, 4, 4, 4]  # under 64 waiting: the smallest batch
    assert [i for b in batches for i in b] == ids  # every id once, in order


def test_a_claimed_mark_expires_or_is_given_up(inbox: Inbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_module, "MARK_SECONDS", 0.05)
    assert inbox.put("a") is True
    time.sleep(0.15)
    assert inbox.put("b") is True  # the drain for a was lost: b's caller sends one
    inbox.unclaim()
    assert inbox.put("c") is True
    assert inbox.waiting() == 3


def test_enqueue_sends_a_drain_only_when_it_claimed_the_mark(inbox: Inbox) -> None:
    sent: list[Inbox] = []
    enqueue = InboxEnqueue(inbox, send=sent.append)
    enqueue("a")
    enqueue("b")
    assert sent == [inbox] and inbox.waiting() == 2


def test_a_drain_that_cannot_be_sent_gives_up_the_mark(inbox: Inbox,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.celery_app import app

    def broker_down(*_: Any, **__: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", broker_down)
    enqueue = InboxEnqueue(inbox)
    with pytest.raises(ConnectionError):
        enqueue("a")
    assert inbox.waiting() == 1  # a later drain still takes it (or the sweeper queues it)
    assert inbox.put("b") is True  # the mark was given up: the next caller sends a drain


class _Services:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.leases = Leases(inbox.r)

    def changes_together(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def test_a_drain_processes_its_batch_in_order_after_sending_the_next(
        inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    for tx_id in "abcdef":
        inbox.put(tx_id)

    def process(tx_id: str) -> Step:
        events.append(tx_id)
        if tx_id == "b":
            raise RuntimeError("one record's fault")
        return Step("track", 0.0)

    monkeypatch.setattr(tasks, "services", lambda: _Services(inbox))
    monkeypatch.setattr(tasks, "_process", process)
    monkeypatch.setattr(tasks, "send_drain", lambda box: events.append("next drain"))
    monkeypatch.setattr(tasks, "schedule_all", lambda steps: events.append(
        "then " + ",".join(tx_id for tx_id, _ in steps)))
    tasks.drain()
    # The next drain goes out before this batch's work; b's failure holds up no other, and
    # the others' next steps are scheduled together at the end.
    assert events == ["next drain", "a", "b", "c", "d", "then a,c,d"]
    events.clear()
    tasks.drain()
    assert events == ["e", "f", "then e,f"]  # nothing more waits: no further drain


def test_a_drain_past_its_budget_hands_the_rest_of_its_batch_out(
        inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for tx_id in "abcd":
        inbox.put(tx_id)
    processed: list[str] = []
    scheduled: list[tuple[str, Step]] = []

    def process(tx_id: str) -> Step:
        processed.append(tx_id)
        if tx_id == "b":
            time.sleep(0.2)  # a throttled signature
        return Step("track", 0.0)

    monkeypatch.setattr(tasks, "DRAIN_BUDGET", 0.1)
    monkeypatch.setattr(tasks, "services", lambda: _Services(inbox))
    monkeypatch.setattr(tasks, "_process", process)
    monkeypatch.setattr(tasks, "schedule_all", scheduled.extend)
    tasks.drain()
    # c and d do not wait behind b: each becomes a process task of its own, at once.
    assert processed == ["a", "b"]
    assert scheduled == [("a", Step("track", 0.0)), ("b", Step("track", 0.0)),
                         ("c", Step("process", 0.0, "drain budget spent")),
                         ("d", Step("process", 0.0, "drain budget spent"))]
    assert inbox.take(4).ids == []  # taken once: handed out, not put back


def test_a_batch_releases_its_leases_together_at_its_end(inbox: Inbox) -> None:
    leases = Leases(inbox.r)
    other = Leases(redis.Redis(connection_pool=inbox.r.connection_pool))
    with leases.released_together():
        for name in ("a", "b"):
            with leases.hold(name, 5) as taken:
                assert taken
        with other.hold("a", 5) as taken_meanwhile:
            assert not taken_meanwhile  # still held: the batch has not ended
    for name in ("a", "b"):
        with other.hold(name, 5) as taken:
            assert taken  # released when the batch ended


def test_a_put_in_a_multi_claims_the_mark_like_put(inbox: Inbox) -> None:
    def put_in(tx_id: str) -> bool:
        with inbox.r.pipeline() as pipe:
            index = inbox.put_in(pipe, tx_id)
            return bool(pipe.execute()[index])

    assert put_in("a") is True
    assert put_in("b") is False  # a drain is pending
    assert inbox.put("c") is False
    assert inbox.take(4).ids == ["a", "b", "c"]
    assert put_in("d") is True

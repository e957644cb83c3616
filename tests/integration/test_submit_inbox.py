"""A new transaction joins the inbox in the transaction that saves its record: one round trip
for both, a drain sent only when none is pending, and a drain that cannot be sent does not
fail the request (the record is saved and waits in the inbox)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ops.processes import ManagedProcess
from tests.integration.api.helpers import vault_env
from tests.integration.redis_trips import counted_trips
from worker.domain.records import Status
from worker.services import Services
from worker.settings import Settings
from worker.store.inbox import KEY, MARK, Inbox
from worker.submit import InboxEnqueue, submit_transaction

pytestmark = pytest.mark.integration


@pytest.fixture
def services(redis_url: str, emulator: ManagedProcess,
             anvil: ManagedProcess) -> Iterator[Services]:
    settings = Settings.from_env(vault_env(emulator), node_url=str(anvil.extra["url"]),
                                 redis_url=redis_url)
    svc = Services(settings)
    yield svc
    svc.close()


def transfer(svc: Services) -> dict[str, Any]:
    sender = svc.accounts()[0].address
    return {"from": sender, "to": sender, "value": "1"}


def test_the_record_and_its_place_in_the_inbox_take_one_round_trip(
        services: Services) -> None:
    sent: list[Inbox] = []
    enqueue = InboxEnqueue(services.inbox, send=sent.append)
    body = transfer(services)
    submit_transaction(services, body, enqueue=enqueue)  # warm: chain id, accounts
    services.inbox.take(10)
    trips = counted_trips(services.redis)
    first, _ = submit_transaction(services, body, enqueue=enqueue)
    assert trips == ["pipeline"]  # record, indexes, open set and inbox in one MULTI
    second, _ = submit_transaction(services, body, enqueue=enqueue)
    assert len(sent) == 2  # the warm-up's drain and the first one's; none for the second
    assert services.redis.lrange(KEY, 0, -1) == [first.id.encode(), second.id.encode()]


def test_a_drain_that_cannot_be_sent_leaves_the_record_saved_and_waiting(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.celery_app import app

    def broker_down(*_: Any, **__: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", broker_down)
    services.redis.delete(KEY, MARK)
    rec, created = submit_transaction(services, transfer(services),
                                      enqueue=InboxEnqueue(services.inbox))
    assert created  # the request does not fail: a retry would make a duplicate
    saved = services.store.get(rec.id)
    assert saved is not None and saved.status == Status.QUEUED
    assert services.redis.lrange(KEY, 0, -1) == [rec.id.encode()]
    assert not services.redis.exists(MARK)  # given up: the next POST sends a drain

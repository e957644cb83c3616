"""``changed``: the pipeline's ``on_change`` hook for webhooks and stage metrics.

``Services`` wires it as the pipeline's ``on_change``. It is called after every record
change, by every worker, possibly many times for the same change; the outbox turns each
status change into exactly one event, and a call with nothing new costs no Redis round
trip. Inside ``together()`` (a drain's batch, a receipt round) changes are kept, the latest
version of each record, and published when the block ends, in one round trip for all of
them when nobody subscribes: a record's history holds every change, so publishing its last
version publishes them all. Nothing here raises into the pipeline: a failure is logged and
the webhook sweep publishes the record's events later (the record stays in the outbox's
open set, as it does when a worker dies before its block ends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from worker import metrics
from worker.domain.records import TxRecord
from worker.webhooks import keys
from worker.webhooks.outbox import Rider
from worker.webhooks.runtime import webhooks_for

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("kvsigner.webhooks")

# The changes kept by the innermost ``together()`` of this thread or task, by record id.
_kept: ContextVar[dict[str, TxRecord] | None] = ContextVar("kvsigner_kept_changes",
                                                           default=None)


def open_from_creation(record: TxRecord) -> Callable[[Any], None]:
    """For ``RecordStore.create(also=...)``: the record joins the outbox's open set in the
    transaction that saves it, so the webhook sweep publishes its events even if every
    worker that changes it dies before publishing (its own webhook URL, or a subscription
    made at any time before a change, may want them)."""
    tx_id = record.id

    def add(pipe: Any) -> None:
        pipe.sadd(keys.OPEN, tx_id)

    return add


def publish(services: Services, record: TxRecord, rider: Rider | None = None) -> None:
    """Record the webhook events of ``record``'s new status changes and queue their
    deliveries; ``rider`` (stage metrics) rides on the same round trip. Never raises."""
    try:
        webhooks_for(services).publisher.publish(record, rider)
    except Exception as exc:  # the pipeline must go on; the sweep publishes later
        log.warning("webhook events of %s not published yet (%s); the sweep retries",
                    record.id, type(exc).__name__)
        if rider is not None:
            # It may not have ridden; recording it again is harmless (each stage of a
            # record is claimed once in Redis) and never raises.
            rider.record(services.redis)


def changed(services: Services, record: TxRecord) -> None:
    """A record changed: publish its events and stage times now, or when the enclosing
    ``together()`` ends. Never raises."""
    kept = _kept.get()
    if kept is not None:
        kept[record.id] = record  # a later version holds every earlier change too
        return
    publish(services, record, metrics.stage_sample(record))


@contextmanager
def together(services: Services) -> Iterator[None]:
    """Changes made inside the block are published when it ends (also when it raises), in
    one round trip for all when nobody subscribes. A nested block adds to the outer one."""
    if _kept.get() is not None:
        yield
        return
    token = _kept.set({})
    try:
        yield
    finally:
        records = list((_kept.get() or {}).values())
        _kept.reset(token)
        if records:
            publish_all(services, records)


def publish_all(services: Services, records: list[TxRecord]) -> None:
    """``publish`` for several records at once. Never raises."""
    riders = [metrics.stage_sample(record) for record in records]
    try:
        webhooks_for(services).publisher.publish_many(records, riders)
    except Exception as exc:  # the sweep publishes later
        log.warning("webhook events of %d records not published yet (%s); the sweep retries",
                    len(records), type(exc).__name__)
        for rider in riders:
            if rider is not None:  # see publish(): recording twice is harmless
                rider.record(services.redis)

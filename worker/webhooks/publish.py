"""``publish``: the pipeline's ``on_change`` hook for webhooks.

``Services`` wires it as the pipeline's ``on_change`` (with the stage metrics). It is called
after every record change, by every worker, possibly many times for the same change; the
outbox turns each status change into exactly one event, and a call with nothing new costs
no Redis round trip. It never raises into the pipeline: a failure is logged and the webhook
sweep publishes the record's events later (the record stays in the outbox's open set).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from worker.domain.records import TxRecord
from worker.webhooks import keys
from worker.webhooks.outbox import Rider
from worker.webhooks.runtime import webhooks_for

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("kvsigner.webhooks")


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

"""The sweeper: finds transactions that stopped making progress and queues them again.

A worker can die after taking a message (or ids from the inbox) and before finishing it;
Celery re-delivers a message after the visibility timeout, and this sweep is the second net
(the only one for ids a drain took from the inbox): any non-terminal record untouched
for ``KVSIGNER_SWEEP_SECONDS`` gets its next stage queued again (at most once per period), and
a broadcast one that receipt rounds do not follow is followed again.
Duplicates are harmless because every stage is idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from worker.domain.records import Status
from worker.services import Services
from worker.steps import Step
from worker.store.records import PREFIX


def sweep_once(services: Services) -> Iterator[tuple[str, Step]]:
    """The records to queue again and the step each needs. Reads the active records in
    batches and asks which broadcast ones are followed in one round trip, so a pass costs a
    few round trips per 500 live records plus one per record it hands on."""
    settings = services.settings
    store = services.store
    cutoff_ms = (time.time() - settings.sweep_seconds) * 1000
    gone: list[str] = []
    stalled: list[str] = []
    broadcast: list[str] = []
    for tx_id, rec in store.active_records():
        if rec is None:
            gone.append(tx_id)
        elif rec.status in (Status.SUBMITTED, Status.MINED):
            broadcast.append(tx_id)
        elif not rec.status.terminal and rec.updated_at <= cutoff_ms:
            stalled.append(tx_id)
    if gone:
        services.redis.srem(f"{PREFIX}active", *gone)
    # A broadcast record that receipt rounds follow is moving, however old its last change.
    followed = services.tracked.followed(broadcast)
    due = [(tx_id, Step("track", 0.0, "sweep")) for tx_id in broadcast if tx_id not in followed]
    due += [(tx_id, Step("process", 0.0, "sweep")) for tx_id in stalled]
    for tx_id, step in due:
        # Once per period per record, however many sweepers run.
        marker = f"{PREFIX}swept:{tx_id}"
        if services.redis.set(marker, 1, nx=True, px=int(settings.sweep_seconds * 1000)):
            yield tx_id, step

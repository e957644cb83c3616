"""The sweeper: finds transactions that stopped making progress and queues them again.

A worker can die after taking a message and before finishing it; Celery re-delivers after
the visibility timeout, and this sweep is the second net: any non-terminal record untouched
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
    settings = services.settings
    store = services.store
    cutoff_ms = (time.time() - settings.sweep_seconds) * 1000
    for tx_id in store.active_ids():
        rec = store.get(tx_id)
        if rec is None:
            services.redis.srem(f"{PREFIX}active", tx_id)
            continue
        if rec.status.terminal:
            continue
        tracking = rec.status in (Status.SUBMITTED, Status.MINED)
        if not tracking and rec.updated_at > cutoff_ms:
            continue
        # Once per period per record, however many sweepers run.
        marker = f"{PREFIX}swept:{tx_id}"
        if not services.redis.set(marker, 1, nx=True, px=int(settings.sweep_seconds * 1000)):
            continue
        if tracking:
            if not services.tracked.contains(tx_id):
                yield tx_id, Step("track", 0.0, "sweep")
        else:
            yield tx_id, Step("process", 0.0, "sweep")

"""The webhook sweep (``kvsigner.webhooks.sweep``, run periodically by beat).

Two nets under the fast paths: (1) deliveries whose time has come are queued, which covers
retries too long for a Celery countdown and messages lost with a broker hiccup or a killed
worker; (2) records whose latest status changes were never published (the hook failed, or a
worker died between saving a record and publishing it) are published. Each part runs at most
once per period across all processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from worker.domain.records import TxRecord
from worker.store.leases import Leases
from worker.store.records import RecordStore
from worker.store.text import as_text
from worker.webhooks import keys
from worker.webhooks.runtime import Webhooks, webhooks_for

if TYPE_CHECKING:
    from worker.services import Services

BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    queued: int = 0
    published: int = 0


def sweep_once(services: Services) -> SweepResult:
    wh = webhooks_for(services)
    leases = Leases(services.redis)
    queued = published = 0
    if leases.claim("wh:sweep", wh.config.sweep_seconds * 0.8):
        queued = wh.dispatcher.enqueue_due()
    if leases.claim("wh:catch-up", services.settings.sweep_seconds):
        published = catch_up(wh, services.store)
    return SweepResult(queued, published)


def catch_up(wh: Webhooks, store: RecordStore) -> int:
    """Publish every open record whose history is ahead of its cursor; forget records that
    are gone or fully published and terminal. Returns how many deliveries were created."""
    r = store.r
    created = 0
    batch: list[str] = []
    for raw in r.sscan_iter(keys.OPEN, count=BATCH):
        batch.append(as_text(raw))
        if len(batch) >= BATCH:
            created += _catch_up_batch(wh, store, batch)
            batch = []
    if batch:
        created += _catch_up_batch(wh, store, batch)
    return created


def _catch_up_batch(wh: Webhooks, store: RecordStore, ids: list[str]) -> int:
    r = store.r
    with r.pipeline(transaction=False) as pipe:
        pipe.exists(keys.SUBS)
        for tx_id in ids:
            pipe.get(store.key(tx_id))
            pipe.get(keys.cursor(tx_id))
        subscribed, *values = pipe.execute()
    created = 0
    closed: list[str] = []
    for i, tx_id in enumerate(ids):
        raw, cursor = values[2 * i], values[2 * i + 1]
        if raw is None:
            closed.append(tx_id)
            continue
        record = TxRecord.from_json_dict(json.loads(raw))
        if len(record.history) > int(cursor or 0) and (subscribed or record.webhook_url):
            created += wh.publisher.publish(record)
        elif record.status.terminal:
            # Published, or nobody subscribed when the batch was read. (A subscription made
            # while the batch runs still gets the events its workers publish; only one whose
            # worker also died in that instant is missed.)
            closed.append(tx_id)
    if closed:
        r.srem(keys.OPEN, *closed)
    return created

"""Celery tasks of the webhooks queue: thin adapters over ``Deliverer`` and the sweep.

Both run on ``kvsigner.webhooks`` only (never inside the transaction pipeline), are
idempotent, and are safe to receive twice: an attempt re-reads its delivery under a lease.
"""

from __future__ import annotations

from worker.celery_app import app
from worker.tasks import services
from worker.webhooks.dispatch import DELIVER_TASK, SWEEP_TASK
from worker.webhooks.runtime import webhooks_for
from worker.webhooks.sweep import sweep_once


@app.task(name=DELIVER_TASK)
def deliver(delivery_id: str) -> str:
    return webhooks_for(services()).deliverer.attempt(delivery_id)


@app.task(name=SWEEP_TASK)
def sweep() -> None:
    sweep_once(services())

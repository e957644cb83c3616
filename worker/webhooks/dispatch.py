"""Queueing delivery attempts, with the due set as the safety net.

Every pending delivery has a score in ``due``: the time it should next be looked at. Queueing
an attempt on the webhooks queue is only the fast path: after a successful send the score
moves ``GRACE`` seconds ahead, so if the message is lost (broker hiccup, a worker killed with
the message in hand) the sweep finds the delivery due again and queues it once more. A
duplicate message is harmless: the attempt takes a lease and re-reads the delivery first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from worker.store.text import as_text
from worker.webhooks import keys
from worker.webhooks.deliveries import DeliveryStore

log = logging.getLogger("kvsigner.webhooks")

DELIVER_TASK = "kvsigner.webhooks.deliver"
SWEEP_TASK = "kvsigner.webhooks.sweep"
GRACE = 60.0  # seconds a queued attempt may take to start before the sweep queues it again

Enqueue = Callable[[str, float], None]


def celery_enqueue(delivery_id: str, countdown: float) -> None:
    """Send ``kvsigner.webhooks.deliver`` to the webhooks queue (by name: no task import).
    Fails fast when the broker is down; the due set covers the loss."""
    from worker.celery_app import app
    from worker.queues import WEBHOOKS_QUEUE

    app.send_task(DELIVER_TASK, args=[delivery_id], queue=WEBHOOKS_QUEUE,
                  countdown=countdown or None,
                  retry_policy={"max_retries": 1, "interval_start": 0.1,
                                "interval_step": 0.2, "interval_max": 0.5})


class Dispatcher:
    def __init__(self, client: redis.Redis, store: DeliveryStore, enqueue: Enqueue) -> None:
        self.r = client
        self.store = store
        self._enqueue = enqueue

    def enqueue(self, delivery_id: str, countdown: float = 0.0) -> bool:
        """Queue an attempt; returns whether the broker took it (never raises)."""
        try:
            self._enqueue(delivery_id, countdown)
        except Exception as exc:  # any broker failure: the sweep queues it again
            log.warning("queueing webhook delivery %s failed (%s); the sweep retries it",
                        delivery_id, type(exc).__name__)
            return False
        # Only ever later (GT), and only while still due (XX): a finished delivery is gone
        # from the set, and a retry already scheduled further ahead keeps its time.
        self.r.zadd(keys.DUE, {delivery_id: time.time() + countdown + GRACE}, xx=True, gt=True)
        return True

    def kick(self, tx_id: str, target: str) -> str | None:
        """Queue the first pending delivery of a record to a target now (after the one
        before it finished, or after new deliveries were added). Returns its id."""
        head = self.store.head(tx_id, target)
        if head is not None:
            self.r.zadd(keys.DUE, {head: time.time()}, xx=True)
            self.enqueue(head)
        return head

    def enqueue_due(self, limit: int = 500, now: float | None = None) -> int:
        """Queue every delivery whose time has come (at most ``limit``); returns how many."""
        moment = time.time() if now is None else now
        due = self.r.zrangebyscore(keys.DUE, "-inf", moment, start=0, num=limit)
        for raw in due:
            self.enqueue(as_text(raw))
        return len(due)

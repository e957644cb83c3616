"""Celery configuration: queues, routing, delivery guarantees and time limits.

Delivery is at least once: tasks are acknowledged after they finish (``acks_late``) and
re-queued when the worker process dies (``reject_on_worker_lost``); a task taken by a worker
that vanished is delivered again after ``KVSIGNER_VISIBILITY_TIMEOUT``. Every task is
idempotent, so a second delivery is harmless. New transactions reach the workers through the
inbox (``worker.store.inbox``): one ``kvsigner.drain`` message per batch of ids.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from worker.queues import QUEUES, RECEIPTS_QUEUE, SEND_QUEUE, WEBHOOKS_QUEUE
from worker.settings import Settings
from worker.store.inbox import MARK_SECONDS

__all__ = ["QUEUES", "RECEIPTS_QUEUE", "SEND_QUEUE", "WEBHOOKS_QUEUE", "app", "make_celery"]


def make_celery(settings: Settings) -> Celery:
    app = Celery("kvsigner", broker=settings.broker,
                 include=["worker.tasks", "worker.webhooks.tasks"])
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue=SEND_QUEUE,
        task_routes={
            "kvsigner.process": {"queue": SEND_QUEUE},
            "kvsigner.drain": {"queue": SEND_QUEUE},
            "kvsigner.track": {"queue": RECEIPTS_QUEUE},
            "kvsigner.track_round": {"queue": RECEIPTS_QUEUE},
            "kvsigner.sweep": {"queue": RECEIPTS_QUEUE},
            "kvsigner.reconcile": {"queue": RECEIPTS_QUEUE},
            "kvsigner.webhooks.*": {"queue": WEBHOOKS_QUEUE},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_ignore_result=True,
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 10),
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        # The threads pool cannot cancel running tasks; after a broker reconnect they
        # finish and unacknowledged ones are delivered again.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
        },
        beat_schedule={
            # A drain whose message was lost is made up for (worker.store.inbox).
            "inbox": {"task": "kvsigner.drain", "schedule": MARK_SECONDS},
            "sweep": {"task": "kvsigner.sweep", "schedule": max(5.0, settings.sweep_seconds / 2)},
            # Revives the chain of receipt rounds if it died (a broadcast also does).
            "receipt-rounds": {"task": "kvsigner.track_round",
                               "schedule": max(2.0, 2 * settings.receipt_poll_seconds)},
            "reconcile": {"task": "kvsigner.reconcile",
                          "schedule": max(1.0, settings.reconcile_seconds)},
            "webhooks-sweep": {"task": "kvsigner.webhooks.sweep",
                               "schedule": settings.webhook_sweep_seconds,
                               "options": {"queue": WEBHOOKS_QUEUE}},
        },
    )
    return app


app = make_celery(Settings.from_env())

"""Accepting a transaction: validate, save, then enqueue (the REST API and JSON-RPC share it).

Save before enqueue: if enqueueing fails after the save, the record stays ``queued`` and the
sweeper queues it later, so an accepted transaction is never lost. Invalid input raises
``ValidationError`` before anything is written.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import redis

from worker import context
from worker.auth.policy import check_sender_allowed
from worker.domain.errors import ValidationError
from worker.domain.records import TxRecord, new_id
from worker.domain.requests import parse_transaction_request
from worker.services import Services
from worker.store.inbox import Inbox
from worker.store.records import body_fingerprint
from worker.webhooks.publish import open_from_creation
from worker.webhooks.ssrf import check_transaction_webhook

MAX_IDEMPOTENCY_KEY = 200
log = logging.getLogger(__name__)


def enqueue_process(tx_id: str) -> None:
    """Put ``tx_id`` on the send queue in a message of its own (imports Celery only when
    first used)."""
    from worker.celery_app import SEND_QUEUE, app

    app.send_task("kvsigner.process", args=[tx_id], queue=SEND_QUEUE)


def send_drain(inbox: Inbox) -> None:
    """Send a ``kvsigner.drain`` message for the inbox mark the caller claimed. If it
    cannot be sent, the mark is given up (the next ``put`` sends one) and the error raised."""
    from worker.celery_app import SEND_QUEUE, app

    try:
        app.send_task("kvsigner.drain", queue=SEND_QUEUE)
    except Exception:
        with contextlib.suppress(redis.RedisError):
            inbox.unclaim()
        raise


class InboxEnqueue:
    """The enqueue function for new transactions through the inbox (``worker.store.inbox``):
    the id joins the inbox, and a drain is sent when none is pending. Called with an id it
    raises Redis or broker errors (the record is saved by then, so the sweeper queues it if
    no drain takes it). ``submit_transaction`` uses ``ride`` instead: the id joins the inbox
    in the transaction that saves the record, one round trip fewer."""

    def __init__(self, inbox: Inbox, send: Callable[[Inbox], None] = send_drain) -> None:
        self.inbox = inbox
        self.send = send

    def __call__(self, tx_id: str) -> None:
        if self.inbox.put(tx_id):
            self.send(self.inbox)

    def ride(self, pipe: Any, tx_id: str) -> Callable[[list[Any]], None]:
        """Queue the put in ``pipe``; returns what to do with the transaction's replies:
        send a drain when the put claimed the mark (a failure to send is logged, not
        raised)."""
        index = self.inbox.put_in(pipe, tx_id)

        def after(replies: list[Any]) -> None:
            if not replies[index]:
                return
            try:
                self.send(self.inbox)
            except Exception:  # the mark is given up: the next put or beat's drain follows
                log.exception("the drain for %s could not be sent; a later one takes it",
                              tx_id)
        return after


def submit_transaction(services: Services, body: Any, idempotency_key: str | None = None,
                       enqueue: Callable[[str], None] = enqueue_process,
                       allow_extra: bool = True) -> tuple[TxRecord, bool]:
    """Validate ``body``, store a ``queued`` record and enqueue it.

    Returns ``(record, created)``; ``created`` is False when ``idempotency_key`` was already
    used with the same body (the earlier record is returned, nothing is enqueued). Raises
    ``ValidationError`` (nothing stored) including ``idempotency_conflict``. An enqueue that
    fails once the record is saved is logged, not raised: the record stays ``queued`` and
    the sweeper queues it (failing the request would invite a duplicate from a retry).
    """
    if idempotency_key is not None and (
            not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY
            or not idempotency_key.isprintable()):
        raise ValidationError("invalid_field", "Idempotency-Key must be 1-200 printable "
                              "characters")
    # Validate the body before asking the node anything: bad input is a 400 even while the
    # node is down. The chain id check follows, once the node's chain is known.
    req, metadata, webhook_url = parse_transaction_request(
        body, is_account=services.is_account, chain_id=None, allow_extra=allow_extra,
        metadata_max_bytes=services.settings.metadata_max_bytes)
    check_sender_allowed(req.sender)  # 403 when the API key may not act for it
    if webhook_url is not None:
        webhook_url = check_transaction_webhook(webhook_url, services.settings)
    chain_id = services.chain_id()
    if req.chain_id is not None and req.chain_id != chain_id:
        raise ValidationError("wrong_chain", f"chainId {req.chain_id} is not the node's "
                              f"chain {chain_id}")
    rec = TxRecord(id=new_id(), request=req, chain_id=chain_id, metadata=metadata,
                   webhook_url=webhook_url, idempotency_key=idempotency_key,
                   api_key=context.api_key.get(), request_id=context.request_id.get())
    rec.transition(rec.status, "accepted")
    # Idempotency keys are per API key: one client's key can never replay another's record.
    scoped = None if idempotency_key is None else f"{rec.api_key or ''}\n{idempotency_key}"
    opened = open_from_creation(rec)
    ride = enqueue.ride if isinstance(enqueue, InboxEnqueue) else None

    def also(pipe: Any) -> Callable[[list[Any]], None] | None:
        opened(pipe)
        return ride(pipe, rec.id) if ride is not None else None

    saved, created = services.store.create(rec, scoped, body_fingerprint(body), also=also)
    if created and ride is None:
        try:
            enqueue(saved.id)
        except Exception:
            log.exception("enqueue of %s failed; the sweeper will queue it", saved.id)
    return saved, created

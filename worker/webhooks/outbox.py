"""Turning new history entries into stored events and pending deliveries, exactly once.

Per record, ``cur:{tx}`` counts the history entries already published. ``publish`` reads it
under WATCH, derives the events of the entries after it, and in one MULTI stores their
bodies, creates one delivery per (event, target) and advances the counter. Two workers
publishing the same change race on the WATCH: one commits, the other re-reads the counter
and finds nothing left to do. Nothing is sent here; the dispatcher queues the attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import redis

from worker.domain.records import TxRecord
from worker.lru import LruMap
from worker.webhooks import keys
from worker.webhooks.deliveries import TX_TARGET, Delivery, DeliveryStore
from worker.webhooks.dispatch import Dispatcher
from worker.webhooks.events import event_body, events_between
from worker.webhooks.subscriptions import Subscription, SubscriptionStore


class Rider(Protocol):
    """Commands that ride on a publication's round trip (``metrics.StageSample``)."""

    def queue(self, pipe: Any) -> None: ...

    def settle(self, client: redis.Redis, outcome: Any) -> None: ...

    def record(self, client: redis.Redis) -> None: ...


class Publisher:
    def __init__(self, client: redis.Redis, deliveries: DeliveryStore,
                 subscriptions: SubscriptionStore, dispatcher: Dispatcher,
                 retention_seconds: int) -> None:
        self.r = client
        self.deliveries = deliveries
        self.subscriptions = subscriptions
        self.dispatcher = dispatcher
        self.retention = retention_seconds
        # Per process: the history length last published per record, so that the
        # pipeline's frequent no-change calls cost no Redis round trip.
        self.seen: LruMap[str, int] = LruMap()

    def publish(self, record: TxRecord, rider: Rider | None = None) -> int:
        """Record the events of ``record``'s unpublished history entries and queue their
        first deliveries. Idempotent; returns how many deliveries this call created.
        Raises Redis errors (the caller logs them; the sweep publishes later).

        ``rider``: commands of the caller's (stage metrics) that ride on this call's first
        round trip (a rider always gets one); settled unless Redis fails first."""
        return self.publish_many([record], [rider])

    def publish_many(self, records: Sequence[TxRecord],
                     riders: Sequence[Rider | None]) -> int:
        """``publish`` for several records (``riders[i]`` rides for ``records[i]``), with one
        round trip for all of them when nobody subscribes: the subscription check, the open
        set's upkeep and every rider. Records that have their own webhook URL, or all of
        them when a subscription exists, then store their events one by one. Returns how
        many deliveries were created; raises Redis errors (after settling the riders when
        they rode)."""
        fresh = [rec for rec in records if (self.seen.get(rec.id) or 0) < len(rec.history)]
        riding = [rider for rider in riders if rider is not None]
        if not fresh and not riding:
            return 0
        with self.r.pipeline(transaction=False) as pipe:
            pipe.exists(keys.SUBS)
            opened = [rec.id for rec in fresh if not rec.status.terminal]
            if opened:
                pipe.sadd(keys.OPEN, *opened)
            for rider in riding:
                rider.queue(pipe)
            answers = pipe.execute(raise_on_error=False)
        for rider, outcome in zip(riding, answers[len(answers) - len(riding):], strict=True):
            rider.settle(self.r, outcome)
        if isinstance(answers[0], Exception):
            raise answers[0]
        created = 0
        closed: list[str] = []
        for rec in fresh:
            if answers[0] or rec.webhook_url:
                created += self._store_events(rec)
            else:
                # Nobody can receive these events, so nothing is stored. The counter need not
                # move: a subscription made later never receives events older than itself.
                if rec.status.terminal:
                    closed.append(rec.id)  # and the sweep need not look at it again
                self._note_seen(rec.id, len(rec.history))
        if closed:
            self.r.srem(keys.OPEN, *closed)
        return created

    def _store_events(self, record: TxRecord) -> int:
        """The events of ``record``'s unpublished entries and their deliveries, stored
        once however many processes race (WATCH on the record's counter)."""
        length = len(record.history)
        cursor_key = keys.cursor(record.id)
        subs: list[Subscription] | None = None
        created: list[Delivery] = []
        with self.r.pipeline() as pipe:
            while True:
                created = []  # a lost WATCH race created nothing
                try:
                    pipe.watch(cursor_key)
                    done = int(pipe.get(cursor_key) or 0)
                    if done >= length:
                        pipe.unwatch()
                        break
                    view = record.to_api()
                    events = events_between(record, done, length, view)
                    if events and subs is None:
                        subs = self.subscriptions.all()
                    pipe.multi()
                    for event in events:
                        targets = self._targets(record, event.type, subs or [],
                                                record.history[event.seq].at)
                        if targets:
                            pipe.set(keys.event(event.id), event_body(event, view),
                                     ex=self.retention)
                        for target, url in targets:
                            delivery = Delivery.for_event(event, target, url)
                            self.deliveries.add(pipe, delivery)
                            created.append(delivery)
                    pipe.set(cursor_key, length, ex=self.retention)
                    if record.status.terminal:
                        pipe.srem(keys.OPEN, record.id)
                    else:
                        pipe.sadd(keys.OPEN, record.id)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        self._note_seen(record.id, length)
        for target in dict.fromkeys(d.target for d in created):
            self.dispatcher.kick(record.id, target)
        return len(created)

    def _note_seen(self, tx_id: str, length: int) -> None:
        self.seen.put(tx_id, max(length, self.seen.get(tx_id) or 0))

    @staticmethod
    def _targets(record: TxRecord, event_type: str, subs: list[Subscription],
                 at_ms: int) -> list[tuple[str, str]]:
        """``(target, url)`` pairs for an event that happened at ``at_ms``: the record's own
        URL (every event), then the matching subscriptions that existed by then."""
        out: list[tuple[str, str]] = []
        if record.webhook_url:
            out.append((TX_TARGET, record.webhook_url))
        out += [(s.id, s.url) for s in subs
                if s.created_at <= at_ms and s.matches(event_type, record.sender)]
        return out

"""Deliveries: one event to one target, with the log of every attempt.

A delivery is ``pending`` until an attempt gets a 2xx (``delivered``) or it is given up
(``failed``: retry window over, URL refused, subscription deleted). Its id is derived from the
event id and the target, so creating it twice is impossible by construction. Finished
deliveries (and their listing entries, lazily) expire after the record retention time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from worker.domain.records import now_ms
from worker.store.text import as_text
from worker.webhooks import keys
from worker.webhooks.events import Event
from worker.webhooks.timefmt import iso

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
TX_TARGET = "tx"  # the record's own webhookUrl; subscriptions use their id


def delivery_id(event_id: str, target: str) -> str:
    return "dlv_" + hashlib.sha256(f"{event_id}|{target}".encode()).hexdigest()[:24]


@dataclass
class Attempt:
    at: int
    round: int
    duration_ms: int
    status_code: int | None = None
    error: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {"at": iso(self.at), "round": self.round, "statusCode": self.status_code,
                "error": self.error, "durationMs": self.duration_ms}


@dataclass
class Delivery:
    id: str
    event_id: str
    event_type: str
    tx_id: str
    seq: int
    target: str
    url: str
    status: str = PENDING
    round: int = 1
    started_at: int = field(default_factory=now_ms)
    next_at: int = field(default_factory=now_ms)
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    reason: str | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @classmethod
    def for_event(cls, event: Event, target: str, url: str) -> Delivery:
        return cls(delivery_id(event.id, target), event.id, event.type, event.tx_id,
                   event.seq, target, url)

    def round_attempts(self) -> int:
        return sum(1 for a in self.attempts if a.round == self.round)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Delivery:
        data = json.loads(raw)
        data["attempts"] = [Attempt(**a) for a in data.get("attempts", [])]
        return cls(**data)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id, "eventId": self.event_id, "eventType": self.event_type,
            "transactionId": self.tx_id,
            "subscriptionId": None if self.target == TX_TARGET else self.target,
            "url": self.url, "status": self.status, "failureReason": self.reason,
            "attemptCount": len(self.attempts),
            "attempts": [a.to_api() for a in self.attempts],
            "nextAttemptAt": iso(self.next_at) if self.status == PENDING else None,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
        }


def member(d: Delivery) -> str:
    return f"{d.created_at:015d}:{d.id}"


class DeliveryStore:
    """Deliveries in Redis. Writes that must agree with the chains and the due set happen
    in one MULTI; read-modify-writes use WATCH, so concurrent updates are never lost."""

    def __init__(self, client: redis.Redis, retention_seconds: int) -> None:
        self.r = client
        self.retention = retention_seconds

    def add(self, pipe: Any, d: Delivery) -> None:
        """Queue the writes that create ``d`` (inside the caller's MULTI)."""
        pipe.set(keys.delivery(d.id), d.to_json())
        pipe.zadd(keys.chain(d.tx_id, d.target), {d.id: d.seq})
        pipe.zadd(keys.DUE, {d.id: d.next_at / 1000})
        m = member(d)
        pipe.zadd(keys.IDX_ALL, {m: 0})
        pipe.zadd(keys.idx_tx(d.tx_id), {m: 0})
        if d.target != TX_TARGET:
            pipe.zadd(keys.idx_sub(d.target), {m: 0})

    def get(self, did: str) -> Delivery | None:
        raw = self.r.get(keys.delivery(did))
        return None if raw is None else Delivery.from_json(raw)

    def get_many(self, ids: list[str]) -> list[Delivery | None]:
        if not ids:
            return []
        raws = self.r.mget([keys.delivery(i) for i in ids])
        return [None if raw is None else Delivery.from_json(raw) for raw in raws]

    def head(self, tx_id: str, target: str) -> str | None:
        """The pending delivery of this record and target that must go first."""
        first = self.r.zrange(keys.chain(tx_id, target), 0, 0)
        return as_text(first[0]) if first else None

    def update(self, did: str, change: Callable[[Delivery], bool],
               also: Callable[[Any, Delivery], None] | None = None) -> Delivery | None:
        """Apply ``change`` atomically; it returns whether it changed anything (it may run
        more than once). ``also(pipe, d)`` queues more commands in the same MULTI. A
        finished delivery leaves its chain and the due set and starts to expire."""
        key = keys.delivery(did)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    d = Delivery.from_json(raw)
                    if not change(d):
                        pipe.unwatch()
                        return d
                    d.updated_at = now_ms()
                    pipe.multi()
                    if d.status == PENDING:
                        pipe.set(key, d.to_json())
                    else:
                        pipe.set(key, d.to_json(), ex=self.retention)
                        pipe.zrem(keys.chain(d.tx_id, d.target), d.id)
                        pipe.zrem(keys.DUE, d.id)
                    if also is not None:
                        also(pipe, d)
                    pipe.execute()
                    return d
                except redis.WatchError:
                    continue

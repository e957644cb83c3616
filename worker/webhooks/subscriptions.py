"""Webhook subscriptions: a URL, the event types it wants and an optional sender filter.

Each subscription has its own ``whsec_`` signing secret, generated here, returned once by
``create`` and never shown again (``to_api`` leaves it out). The secret stays in Redis because
every delivery needs it to sign; it never reaches a log line or an error.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from worker.domain.records import now_ms
from worker.store.text import as_text
from worker.webhooks import keys
from worker.webhooks.signing import generate_secret
from worker.webhooks.timefmt import iso


@dataclass
class Subscription:
    id: str
    url: str
    events: list[str]
    sender: str | None
    secret: str = field(repr=False)
    created_at: int = field(default_factory=now_ms)

    def matches(self, event_type: str, sender: str) -> bool:
        return event_type in self.events and (
            self.sender is None or self.sender.lower() == sender.lower())

    def to_api(self, with_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "url": self.url, "events": list(self.events),
                               "sender": self.sender, "createdAt": iso(self.created_at)}
        if with_secret:
            out["secret"] = self.secret
        return out


class SubscriptionStore:
    """Subscriptions in Redis: ``sub:{id}`` holds one as JSON, ``subs`` the set of ids."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def create(self, url: str, events: list[str], sender: str | None) -> Subscription:
        """Save a new subscription (already validated) with a fresh id and secret."""
        sub = Subscription("sub_" + secrets.token_hex(12), url, list(events), sender,
                           generate_secret())
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(keys.subscription(sub.id), json.dumps(asdict(sub)))
            pipe.sadd(keys.SUBS, sub.id)
            pipe.execute()
        return sub

    def get(self, sub_id: str) -> Subscription | None:
        raw = self.r.get(keys.subscription(sub_id))
        return None if raw is None else Subscription(**json.loads(raw))

    def all(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        ids = sorted(as_text(i) for i in self.r.smembers(keys.SUBS))
        if not ids:
            return []
        raws = self.r.mget([keys.subscription(i) for i in ids])
        subs = [Subscription(**json.loads(raw)) for raw in raws if raw is not None]
        return sorted(subs, key=lambda s: (s.created_at, s.id))

    def delete(self, sub_id: str) -> bool:
        """Remove a subscription; its pending deliveries fail at their next attempt.
        Returns whether it existed."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(keys.subscription(sub_id))
            pipe.srem(keys.SUBS, sub_id)
            deleted, _ = pipe.execute()
        return bool(deleted)

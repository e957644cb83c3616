"""The webhook collaborators of one process, built from its ``Services`` once.

Kept beside ``Services`` (keyed weakly by it) rather than inside it, so tests can build as
many independent sets as they build ``Services``; ``build`` takes explicit parts for tests
that need another enqueue function or resolver.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from worker.settings import Settings
from worker.webhooks.config import WebhookConfig
from worker.webhooks.deliveries import DeliveryStore
from worker.webhooks.delivery import Deliverer
from worker.webhooks.dispatch import Dispatcher, Enqueue, celery_enqueue
from worker.webhooks.outbox import Publisher
from worker.webhooks.ssrf import Resolver, system_resolver
from worker.webhooks.subscriptions import SubscriptionStore

if TYPE_CHECKING:
    from worker.services import Services


@dataclass(frozen=True)
class Webhooks:
    config: WebhookConfig
    subscriptions: SubscriptionStore
    deliveries: DeliveryStore
    dispatcher: Dispatcher
    publisher: Publisher
    deliverer: Deliverer


def build(client: redis.Redis, settings: Settings, enqueue: Enqueue = celery_enqueue,
          resolver: Resolver = system_resolver) -> Webhooks:
    """Raises ``ValueError`` for an unusable webhook setting (e.g. the retry schedule)."""
    config = WebhookConfig.from_settings(settings)
    subs = SubscriptionStore(client)
    store = DeliveryStore(client, config.retention_seconds)
    dispatcher = Dispatcher(client, store, enqueue)
    # Celery countdowns on the Redis broker are held unacknowledged by a worker; past the
    # visibility timeout they would be delivered twice, so long waits go through the sweep.
    countdown_max = min(60.0, settings.visibility_timeout / 2)
    return Webhooks(
        config, subs, store, dispatcher,
        Publisher(client, store, subs, dispatcher, config.retention_seconds),
        Deliverer(client, store, subs, dispatcher, config, countdown_max, resolver),
    )


_built: weakref.WeakKeyDictionary[Services, Webhooks] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def webhooks_for(services: Services) -> Webhooks:
    """This ``Services``' webhook collaborators (built on first use, thread-safe)."""
    with _lock:
        found = _built.get(services)
        if found is None:
            found = _built[services] = build(services.redis, services.settings)
        return found


def use(services: Services, webhooks: Webhooks) -> None:
    """Make ``webhooks_for(services)`` answer ``webhooks`` (tests with their own parts)."""
    with _lock:
        _built[services] = webhooks

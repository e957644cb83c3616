"""The dependency checks behind ``/readyz`` and ``/status``, one small function each.

Each check returns a plain value or raises; ``api.probes.Prober`` bounds and names the
failures. Queue depths are read from the Celery broker: with the Redis transport each queue
is a Redis list named after the queue, so ``LLEN`` is its depth.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis

from worker.queues import QUEUES
from worker.services import Services
from worker.store.records import PREFIX

#: Workers refresh ``kvsigner:worker:{hostname}`` (with a short expiry) as a heartbeat.
WORKER_KEYS = f"{PREFIX}worker:*"
_REDIS_SCHEMES = ("redis", "rediss", "unix")


class DependencyChecks:
    """Check functions over one ``Services``. Thread-safe."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._broker_lock = threading.Lock()
        self._broker: redis.Redis | None = None

    # --- the checks --------------------------------------------------------------------
    def redis_ping(self) -> bool:
        return bool(self.services.redis.ping())

    def node_chain_id(self) -> int:
        return self.services.node.chain_id()

    def node_block(self) -> int:
        return self.services.node.block_number()

    def vault_accounts(self) -> int:
        """The number of enabled accounts. The signer answers from its cache once it has
        listed the keys, so this fails only while it has never reached the vault."""
        return len(self.services.accounts())

    def queue_depths(self) -> dict[str, int]:
        client = self._broker_client()
        return {name: int(client.llen(name)) for name in QUEUES}

    def live_workers(self) -> int:
        return sum(1 for _ in self.services.redis.scan_iter(match=WORKER_KEYS, count=500))

    def transactions(self) -> dict[str, int]:
        return self.services.store.count_by_status()

    # --- groups ------------------------------------------------------------------------
    def readiness(self) -> dict[str, Callable[[], Any]]:
        """What must answer before this process can accept transactions."""
        return {"redis": self.redis_ping, "node": self.node_chain_id,
                "vault": self.vault_accounts}

    def status(self) -> dict[str, Callable[[], Any]]:
        return {**self.readiness(), "block": self.node_block, "queues": self.queue_depths,
                "workers": self.live_workers, "transactions": self.transactions}

    # --- helpers -----------------------------------------------------------------------
    def _broker_client(self) -> redis.Redis:
        """The records Redis when it is also the broker, else a client of its own.
        Raises ``BrokerNotRedis`` for a broker whose queues are not Redis lists."""
        settings = self.services.settings
        if settings.broker == settings.redis_url:
            return self.services.redis
        if urlsplit(settings.broker).scheme not in _REDIS_SCHEMES:
            raise BrokerNotRedis("queue depths are only read from a Redis broker")
        with self._broker_lock:
            if self._broker is None:
                self._broker = redis.Redis.from_url(settings.broker, socket_timeout=5,
                                                    socket_connect_timeout=2)
            return self._broker

    def close(self) -> None:
        if self._broker is not None:
            self._broker.close()


class BrokerNotRedis(RuntimeError):
    """The broker is not Redis, so queue depths cannot be read with LLEN."""

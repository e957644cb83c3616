"""Builds every collaborator from settings, lazily and once per process.

Nothing here runs at import time: the API app factory and the Celery worker each create one
``Services`` for their process. Tests build their own with explicit settings.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from functools import cached_property
from typing import Any

import redis

from worker.audit import AuditedSigner, AuditLog
from worker.chain.node import NodeClient
from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord
from worker.nonces import NonceManager
from worker.pipeline import Pipeline
from worker.receipt_rounds import ReceiptRounds
from worker.settings import Settings
from worker.signing.base import DigestSigner, VaultAccount
from worker.signing.ratelimit import VaultRateLimiter
from worker.store.inbox import Inbox
from worker.store.leases import Leases
from worker.store.records import RecordStore
from worker.store.tracked import TrackedSet

log = logging.getLogger(__name__)


class Services:
    """The process's shared clients. Thread-safe: every member is, and creation is locked."""

    def __init__(self, settings: Settings, signer: DigestSigner | None = None) -> None:
        self.settings = settings
        self._signer = signer
        # The vault rate limiter of a signer built here (None: a signer passed in, or off).
        self._limiter: VaultRateLimiter | None = None
        self._lock = threading.Lock()
        self._chain_id: int | None = settings.chain_id

    @cached_property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=10,
                                    socket_connect_timeout=5, health_check_interval=30)

    @cached_property
    def store(self) -> RecordStore:
        return RecordStore(self.redis, self.settings.record_ttl_seconds)

    @cached_property
    def leases(self) -> Leases:
        return Leases(self.redis)

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self.redis)

    @cached_property
    def node(self) -> NodeClient:
        return NodeClient(self.settings.node_url, self.settings.node_timeout)

    @cached_property
    def nonces(self) -> NonceManager:
        return NonceManager(self.redis, self.store, self.node.pending_nonce,
                            lock_seconds=self.settings.nonce_lock_seconds,
                            resync_seconds=self.settings.nonce_resync_seconds)

    @property
    def signer(self) -> DigestSigner:
        """The vault signer (raises ``VaultError('vault_not_configured')`` without a vault)."""
        with self._lock:
            if self._signer is None:
                from worker.signing.factory import build_signer

                limit = self.settings.vault_rate_limit
                self._limiter = (VaultRateLimiter(self.redis, self.settings.vault_url, limit)
                                 if limit > 0 else None)
                self._signer = build_signer(self.settings, self._limiter.acquire
                                            if self._limiter else None)
            if not isinstance(self._signer, AuditedSigner):
                # Every signature is recorded first (worker.audit): only the audited wrapper
                # is handed out, also of a signer passed in.
                self._signer = AuditedSigner(self._signer, AuditLog(
                    self.redis, self.settings.audit_retention_days), self.store.get,
                    pace=self._limiter)
            return self._signer

    def chain_id(self) -> int:
        """The configured chain id, else the node's (asked once, then cached)."""
        if self._chain_id is None:
            node_chain = self.node.chain_id()
            self._chain_id = node_chain
        return self._chain_id

    def is_account(self, address: str) -> bool:
        try:
            self.signer.account(address)
        except KvsignerError as exc:
            if exc.code == "unknown_account":
                return False
            raise
        return True

    def accounts(self) -> list[VaultAccount]:
        return self.signer.accounts()

    def warm(self) -> None:
        """Load what the first requests would otherwise wait for: the vault's key list
        (discovery: a listing and a read per key) and the node's chain id. Best effort, for
        a background thread at process start: what fails is logged (its error code only)
        and left to the first request that needs it. Never raises."""
        for what, load in (("the vault's accounts", self.accounts),
                           ("the chain id", self.chain_id)):
            try:
                load()
            except Exception as exc:
                code = exc.code if isinstance(exc, KvsignerError) else type(exc).__name__
                log.warning("warm-up: %s not loaded (%s); the first request that needs "
                            "them tries again", what, code)

    @cached_property
    def pipeline(self) -> Pipeline:
        return Pipeline(self.settings, self.store, self.nonces, self.node, self.signer,
                        self.leases, self.chain_id(), on_change=self._on_change)

    @cached_property
    def tracked(self) -> TrackedSet:
        return TrackedSet(self.redis)

    @cached_property
    def rounds(self) -> ReceiptRounds:
        return ReceiptRounds(self.settings, self.store, self.node, self.tracked,
                             self.pipeline.tracker)

    def _on_change(self, record: TxRecord) -> None:
        """The pipeline's hook after every record change: its stage times (metrics) and its
        webhook events, in one round trip where both need one."""
        # Imported on use: the webhook modules build on Services (an import cycle otherwise).
        from worker.webhooks.publish import changed

        changed(self, record)

    def changes_together(self) -> AbstractContextManager[None]:
        """Record changes inside the block are published when it ends, together
        (``worker.webhooks.publish.together``)."""
        from worker.webhooks.publish import together

        return together(self)

    def close(self) -> None:
        closer: Any = getattr(self._signer, "close", None)
        if callable(closer):
            closer()
        if "redis" in self.__dict__:
            self.redis.close()

"""The transaction state machine, in plain Python (Celery tasks only call into it).

``process(id)`` takes a record from ``queued`` to ``submitted``: plan gas and fees (before any
nonce is taken), assign the nonce and save it with the plan, sign through the vault, save the
raw transaction, broadcast. ``track(id)`` (``worker.tracking``) follows it to the end. Both are
idempotent and safe to run twice at once: each stage re-reads the record and skips work
already done, the signed bytes are saved before they are broadcast, and a per-record lease
keeps two workers from signing the same record concurrently. Each returns a ``Step`` telling
the caller what to schedule next.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from worker import context, metrics
from worker.audit import signing_for
from worker.chain.fees import bumped, estimate_gas, plan_fees
from worker.chain.node import NodeClient
from worker.chain.node_errors import outcome_for
from worker.domain.errors import KvsignerError, NodeError
from worker.domain.records import Status, TxRecord, now_ms
from worker.nonces import NonceManager
from worker.replacement import Replacer
from worker.settings import Settings
from worker.signing.base import DigestSigner
from worker.signing.transactions import sign_transaction
from worker.steps import DONE, Step
from worker.store.leases import Leases
from worker.store.records import RecordStore
from worker.tracking import Tracker
from worker.txfields import apply_plan, build_tx, current_plan, market_request

log = logging.getLogger("kvsigner.pipeline")

MAX_SEND_FEE_BUMPS = 10


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: a random wait in [base, min(cap, base*2^n)]."""
    return random.uniform(base, min(cap, base * 2 ** min(attempt, 16)))


class Pipeline:
    """Drives records through their statuses. All collaborators are injected."""

    def __init__(self, settings: Settings, store: RecordStore, nonces: NonceManager,
                 node: NodeClient, signer: DigestSigner, leases: Leases, chain_id: int,
                 on_change: Callable[[TxRecord], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.nonces = nonces
        self.node = node
        self.signer = signer
        self.leases = leases
        self.chain_id = chain_id
        # Called after every change of a record; by default it records the stage times.
        self.on_change = on_change or (lambda rec: metrics.stage_reached(store.r, rec))
        self.replacer = Replacer(settings, store, node, signer, chain_id, self.on_change)
        self.tracker = Tracker(settings, store, node, leases, self.replacer, self.on_change,
                               self.requeue_if_nonce_taken)

    def track(self, tx_id: str) -> Step:
        return self.tracker.track(tx_id)

    # --- process: queued -> signed -> submitted ------------------------------------------
    def process(self, tx_id: str) -> Step:
        """Advance a record as far as ``submitted``. Never raises for expected failures:
        permanent ones mark the record ``failed``, transient ones return a retry step."""
        # The record is read in the same round trip as the lease is taken.
        with self.leases.hold_reading(f"tx:{tx_id}", self.settings.lease_seconds,
                                      self.store.key(tx_id)) as (held, raw):
            if not held:
                return Step("process", 5.0, "another worker holds this record")
            rec = self.store.parse(tx_id, raw)
            if rec is None or rec.status.terminal:
                return DONE
            if rec.status in (Status.SUBMITTED, Status.MINED):
                return Step("track", 0.0)  # followed at most once: tracking is a set
            # Logs and audit entries of this work name the request that asked for it.
            with context.bound(request_id=rec.request_id, api_key=rec.api_key):
                try:
                    if rec.status == Status.QUEUED:
                        if rec.nonce is None:
                            rec = self._assign(rec)
                        rec = self._sign(rec)
                    return self._broadcast(rec)
                except KvsignerError as exc:
                    return self._on_error(tx_id, exc)

    def _assign(self, rec: TxRecord) -> TxRecord:
        req = rec.request
        gas = estimate_gas(self.node, req, self.settings.gas_margin_percent)
        plan = plan_fees(self.node, req, self.settings.fee_base_multiplier)

        def apply(r: TxRecord) -> None:
            r.gas = gas
            apply_plan(r, plan)
            r.note(f"nonce {r.nonce} assigned")

        return self.nonces.assign(rec.id, self.chain_id, prepare=apply, current=rec)

    def _sign(self, rec: TxRecord) -> TxRecord:
        with signing_for(rec):  # the audit entry's purpose comes from this very version
            signed = sign_transaction(self.signer, build_tx(rec, self.chain_id))
        raw, tx_hash = signed.raw_hex, "0x" + bytes(signed.hash).hex()
        nonce = rec.nonce

        def save(r: TxRecord) -> None:
            # Only the first signature for this nonce and these fees is ever kept.
            if r.status == Status.QUEUED and r.raw is None and r.nonce == nonce:
                r.raw, r.hash = raw, tx_hash
                r.hashes.append(tx_hash)
                if r.cancel_requested:
                    r.cancel_hashes.append(tx_hash)
                r.transition(Status.SIGNED)

        rec, _ = self.store.update(rec.id, save)
        self.on_change(rec)
        return rec

    def _broadcast(self, rec: TxRecord) -> Step:
        if rec.status != Status.SIGNED or rec.raw is None:
            return Step("process", 1.0, f"unexpected status {rec.status}")
        try:
            self.node.send_raw_transaction(rec.raw)
        except NodeError as exc:
            return self._on_send_error(rec, exc)
        return self._mark_submitted(rec.id, "")

    def _mark_submitted(self, tx_id: str, note: str) -> Step:
        def change(r: TxRecord) -> None:
            r.sent = True
            if r.status == Status.SIGNED:
                r.broadcast_at = now_ms()
                r.transition(Status.SUBMITTED, note)

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)
        log.info("transaction %s submitted as %s (nonce %s)", tx_id, rec.hash, rec.nonce)
        # Due at once: the next receipt round looks (at most a poll from now). On chains
        # with instant or sub-second blocks the receipt is often there already.
        return Step("track", 0.0)

    def _on_send_error(self, rec: TxRecord, exc: NodeError) -> Step:
        metrics.node_error(self.store.r, exc)
        if exc.node_class == "TRANSPORT":
            # The node may or may not have it: the nonce can never be handed back now.
            self.store.update(rec.id, _mark_maybe_sent)
            return Step("process", backoff(rec.attempts), exc.code)
        action = outcome_for(exc).action
        if action in ("success", "accepted"):
            return self._mark_submitted(rec.id, f"node: {exc.node_class}")
        if action == "check_nonce":
            if self.requeue_if_nonce_taken(rec):
                return Step("process", 0.0, "nonce reassigned")
            return self._mark_submitted(rec.id, "nonce used by our own transaction")
        if action == "bump_fee" and rec.attempts < MAX_SEND_FEE_BUMPS:
            return self._resign_with_higher_fees(rec, exc.node_class)
        if action == "retry" or exc.retryable:
            return self._retry_later(rec.id, exc)
        self._fail(rec.id, exc)
        return DONE

    def requeue_if_nonce_taken(self, rec: TxRecord) -> bool:
        """The node says the record's nonce is used. If one of our own hashes is mined,
        return False (the tracker will find it). Otherwise another transaction took the
        nonce and ours can never be mined: clear it (it is consumed on chain, not handed
        back), put the record back to ``queued`` for a fresh nonce and return True (the
        caller schedules ``process``)."""
        for tx_hash in reversed(rec.hashes):
            if self.node.get_receipt(tx_hash) is not None:
                return False
        nonce = rec.nonce

        def requeue(r: TxRecord) -> None:
            if r.status in (Status.SIGNED, Status.SUBMITTED) and r.nonce == nonce:
                r.nonce, r.raw, r.hash, r.sent, r.broadcast_at = None, None, None, False, None
                r.transition(Status.QUEUED, f"nonce {nonce} was used by another "
                             "transaction; assigning a new one")

        self.nonces.force_resync(self.chain_id, rec.sender)
        rec, _ = self.store.update(rec.id, requeue)
        return rec.status == Status.QUEUED

    def _resign_with_higher_fees(self, rec: TxRecord, reason: str) -> Step:
        market = plan_fees(self.node, market_request(rec), self.settings.fee_base_multiplier)
        plan = bumped(current_plan(rec), self.settings.bump_percent, floor=market)

        def change(r: TxRecord) -> None:
            if r.status == Status.SIGNED and not r.sent:
                apply_plan(r, plan)
                r.raw, r.hash = None, None
                r.attempts += 1
                r.transition(Status.QUEUED, f"re-signing with higher fees ({reason})")

        self.store.update(rec.id, change)
        return Step("process", 0.0, "fees raised")

    # --- errors ---------------------------------------------------------------------------
    def _on_error(self, tx_id: str, exc: KvsignerError) -> Step:
        metrics.node_error(self.store.r, exc)
        if exc.retryable:
            return self._retry_later(tx_id, exc)
        self._fail(tx_id, exc)
        return DONE

    def _retry_later(self, tx_id: str, exc: KvsignerError) -> Step:
        rec, _ = self.store.update(tx_id, _count_attempt)
        log.info("transaction %s: retrying after %s", tx_id, exc.code)
        return Step("process", backoff(rec.attempts), exc.code)

    def _fail(self, tx_id: str, exc: KvsignerError) -> None:
        """Fail the record. A nonce it holds goes back for reuse when no broadcast of it can
        have reached the node, so the sender's next transaction does not wait behind a gap."""
        rec = self.store.require(tx_id)
        if rec.nonce is not None and not rec.sent:
            self.nonces.release(tx_id, self.chain_id)

        def change(r: TxRecord) -> None:
            if not r.status.terminal:
                r.fail(exc.code, exc.message)

        rec, _ = self.store.update(tx_id, change)
        log.warning("transaction %s failed: %s", tx_id, exc.code)
        self.on_change(rec)


def _count_attempt(rec: TxRecord) -> None:
    rec.attempts += 1


def _mark_maybe_sent(rec: TxRecord) -> None:
    rec.sent = True

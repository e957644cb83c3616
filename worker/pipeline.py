"""The transaction state machine, in plain Python (Celery tasks only call into it).

``process(id)`` takes a record from ``queued`` to ``submitted``: plan gas and fees (before any
nonce is taken), assign the nonce and save it with the plan, sign through the vault, save the
raw transaction, broadcast. ``track(id)`` follows a submitted transaction to ``confirmed`` or
``reverted``, noticing when its block is replaced. Both are idempotent and safe to run twice
at once: each stage re-reads the record and skips work already done, the signed bytes are
saved before they are broadcast, and a per-record lease keeps two workers from signing the
same record concurrently. Each returns a ``Step`` telling the caller what to schedule next.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from worker.chain.fees import FeePlan, bumped, estimate_gas, plan_fees
from worker.chain.node import NodeClient
from worker.chain.node_errors import outcome_for
from worker.domain.errors import KvsignerError, NodeError
from worker.domain.records import HistoryEntry, Status, TxRecord, TxRequest, now_ms
from worker.nonces import NonceManager
from worker.settings import Settings
from worker.signing.base import DigestSigner
from worker.signing.transactions import sign_transaction
from worker.store.leases import Leases
from worker.store.records import RecordStore

log = logging.getLogger("kvsigner.pipeline")

MAX_FEE_BUMPS = 10
MIN_BUMP = 12  # percent; pools require 10% on both fee fields, a margin avoids rounding


@dataclass(frozen=True)
class Step:
    """What to do after a pipeline call: nothing, run ``process`` again later, or ``track``."""

    kind: Literal["done", "process", "track"]
    delay: float = 0.0
    reason: str = ""


DONE = Step("done")


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
        self.on_change = on_change or (lambda rec: None)

    # --- process: queued -> signed -> submitted ------------------------------------------
    def process(self, tx_id: str) -> Step:
        """Advance a record as far as ``submitted``. Never raises for expected failures:
        permanent ones mark the record ``failed``, transient ones return a retry step."""
        with self.leases.hold(f"tx:{tx_id}", self.settings.lease_seconds) as held:
            if not held:
                return Step("process", 5.0, "another worker holds this record")
            rec = self.store.get(tx_id)
            if rec is None or rec.status.terminal:
                return DONE
            if rec.status in (Status.SUBMITTED, Status.MINED):
                return DONE if self._tracked_recently(tx_id) else Step("track", 0.0)
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
            _apply_plan(r, plan)
            r.history.append(_note(r, f"nonce {r.nonce} assigned"))

        return self.nonces.assign(rec.id, self.chain_id, prepare=apply)

    def _tx_dict(self, rec: TxRecord) -> dict[str, Any]:
        req = rec.request
        tx: dict[str, Any] = {"from": req.sender, "value": req.value, "data": req.data,
                              "gas": rec.gas, "nonce": rec.nonce, "chainId": self.chain_id}
        if req.to is not None:
            tx["to"] = req.to
        if rec.tx_type == 2:
            tx.update(type=2, maxFeePerGas=rec.max_fee_per_gas,
                      maxPriorityFeePerGas=rec.max_priority_fee_per_gas,
                      accessList=req.access_list or [])
        elif rec.tx_type == 1:
            tx.update(type=1, gasPrice=rec.gas_price, accessList=req.access_list or [])
        else:
            tx["gasPrice"] = rec.gas_price
        return tx

    def _sign(self, rec: TxRecord) -> TxRecord:
        signed = sign_transaction(self.signer, self._tx_dict(rec))
        raw, tx_hash = "0x" + signed.raw.hex(), "0x" + bytes(signed.hash).hex()
        nonce = rec.nonce

        def save(r: TxRecord) -> None:
            # Only the first signature for this nonce and these fees is ever kept.
            if r.status == Status.QUEUED and r.raw is None and r.nonce == nonce:
                r.raw, r.hash = raw, tx_hash
                r.hashes.append(tx_hash)
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
                r.transition(Status.SUBMITTED, note)

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)
        return Step("track", self.settings.receipt_poll_seconds)

    def _on_send_error(self, rec: TxRecord, exc: NodeError) -> Step:
        if exc.node_class == "TRANSPORT":
            # The node may or may not have it: the nonce can never be handed back now.
            self.store.update(rec.id, lambda r: setattr(r, "sent", True))
            return Step("process", backoff(rec.attempts), exc.code)
        action = outcome_for(exc).action
        if action in ("success", "accepted"):
            return self._mark_submitted(rec.id, f"node: {exc.node_class}")
        if action == "check_nonce":
            return self._nonce_used(rec)
        if action == "bump_fee" and rec.attempts < MAX_FEE_BUMPS:
            return self._rebuild_with_fees(rec, bump=True, note=exc.node_class)
        if action == "retry" or exc.retryable:
            return self._retry_later(rec.id, exc)
        self._fail(rec.id, exc)
        return DONE

    def _nonce_used(self, rec: TxRecord) -> Step:
        """The node says our nonce is taken. If by one of our own hashes, we are done
        sending; otherwise another transaction used it and ours can never be mined, so the
        record gets a fresh nonce (the old one is consumed on chain, not handed back)."""
        for tx_hash in reversed(rec.hashes):
            if self.node.get_receipt(tx_hash) is not None:
                return self._mark_submitted(rec.id, "nonce used by our own transaction")

        def requeue(r: TxRecord) -> None:
            if r.status == Status.SIGNED:
                r.nonce, r.raw, r.hash, r.sent = None, None, None, False
                r.transition(Status.QUEUED, "nonce used by another transaction; reassigning")

        self.nonces.force_resync(self.chain_id, rec.sender)
        self.store.update(rec.id, requeue)
        return Step("process", 0.0, "nonce reassigned")

    def _rebuild_with_fees(self, rec: TxRecord, bump: bool, note: str) -> Step:
        current = FeePlan(rec.tx_type or 0, rec.gas_price, rec.max_fee_per_gas,
                          rec.max_priority_fee_per_gas)
        market = plan_fees(self.node, _market_request(rec), self.settings.fee_base_multiplier)
        plan = bumped(current, MIN_BUMP, floor=market) if bump else market

        def change(r: TxRecord) -> None:
            if r.status == Status.SIGNED:
                _apply_plan(r, plan)
                r.raw, r.hash = None, None
                r.attempts += 1
                r.transition(Status.QUEUED, f"re-signing with higher fees ({note})")

        self.store.update(rec.id, change)
        return Step("process", 0.0, "fees bumped")

    # --- errors ---------------------------------------------------------------------------
    def _on_error(self, tx_id: str, exc: KvsignerError) -> Step:
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

    # --- track: submitted -> mined -> confirmed/reverted ----------------------------------
    def track(self, tx_id: str) -> Step:
        """Look for a receipt of any of the record's hashes and move the record along.
        Returns ``DONE`` once the record is terminal."""
        poll = self.settings.receipt_poll_seconds
        # Duplicate tracking chains (after a sweep or a redelivery) die out here: only one
        # track run per record may start within most of a poll interval.
        if not self.leases.claim(f"track:{tx_id}", poll * 0.8):
            return DONE
        rec = self.store.get(tx_id)
        if rec is None or rec.status.terminal:
            return DONE
        if rec.status not in (Status.SUBMITTED, Status.MINED):
            return DONE
        try:
            found = self._canonical_receipt(rec)
            if found is None:
                if rec.status == Status.MINED:
                    self._reorged(tx_id)
                else:
                    self._rebroadcast_if_dropped(rec)
                return Step("track", poll)
            latest = self.node.block_number()
        except NodeError as exc:
            return Step("track", max(poll, backoff(2)), exc.code)
        depth = latest - int(found["blockNumber"], 16) + 1
        receipt = _receipt_view(found)

        def change(r: TxRecord) -> None:
            if r.status.terminal:
                return
            r.receipt = receipt
            r.hash = receipt["transactionHash"]
            if depth >= self.settings.confirmations:
                r.transition(Status.CONFIRMED if receipt["status"] == 1 else Status.REVERTED)
            elif r.status != Status.MINED:
                r.transition(Status.MINED)

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)
        return DONE if rec.status.terminal else Step("track", poll)

    def _tracked_recently(self, tx_id: str) -> bool:
        return self.leases.exists(f"track:{tx_id}")

    def _canonical_receipt(self, rec: TxRecord) -> dict[str, Any] | None:
        for tx_hash in reversed(rec.hashes):
            receipt = self.node.get_receipt(tx_hash)
            if receipt is None or receipt.get("blockNumber") is None:
                continue
            block = self.node.get_block(int(receipt["blockNumber"], 16))
            if block is not None and block.get("hash") == receipt.get("blockHash"):
                return receipt
        return None

    def _reorged(self, tx_id: str) -> None:
        def change(r: TxRecord) -> None:
            if r.status == Status.MINED:
                r.receipt = None
                r.transition(Status.SUBMITTED, "block replaced (reorg); waiting again")

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)

    def _rebroadcast_if_dropped(self, rec: TxRecord) -> None:
        """A node restart or pool eviction can drop a pending transaction: send the same
        bytes again (the node answers 'already known' if it still has them)."""
        if rec.raw is None or rec.hash is None:
            return
        if self.node.get_transaction(rec.hash) is not None:
            return
        try:
            self.node.send_raw_transaction(rec.raw)
        except NodeError as exc:
            log.info("rebroadcast of %s: %s", rec.id, exc.node_class)


def _note(rec: TxRecord, note: str) -> HistoryEntry:
    return HistoryEntry(rec.status.value, now_ms(), note)


def _count_attempt(rec: TxRecord) -> None:
    rec.attempts += 1


def _apply_plan(rec: TxRecord, plan: FeePlan) -> None:
    rec.tx_type = plan.tx_type
    rec.gas_price = plan.gas_price
    rec.max_fee_per_gas = plan.max_fee_per_gas
    rec.max_priority_fee_per_gas = plan.max_priority_fee_per_gas


def _market_request(rec: TxRecord) -> TxRequest:
    """The record's request with its fee fields cleared, to ask for the market price of its
    transaction type."""
    return replace(rec.request, gas_price=None, max_fee_per_gas=None,
                   max_priority_fee_per_gas=None, type=rec.tx_type)


def _receipt_view(receipt: dict[str, Any]) -> dict[str, Any]:
    def num(key: str) -> int | None:
        val = receipt.get(key)
        return None if val is None else int(val, 16)

    return {
        "transactionHash": receipt["transactionHash"],
        "blockNumber": num("blockNumber"),
        "blockHash": receipt.get("blockHash"),
        "gasUsed": str(num("gasUsed")),
        "effectiveGasPrice": str(num("effectiveGasPrice")),
        "status": num("status"),
        "contractAddress": receipt.get("contractAddress"),
        "from": receipt.get("from"),
    }

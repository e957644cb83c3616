"""Replacing a broadcast transaction: fee bumps of stuck transactions, and cancellations.

A replacement reuses the record's nonce (it replaces, never adds) and raises both EIP-1559
fee fields (or the gas price) by at least ``KVSIGNER_BUMP_PERCENT`` and to no less than the
current market price, so pools accept it. The new raw transaction is saved on the record,
and its hash appended to ``hashes``, before it is broadcast; any of the hashes may end up
mined, and the tracker accepts a receipt for any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from worker import metrics
from worker.audit import signing_for
from worker.chain.fees import FeePlan, bumped, plan_fees
from worker.chain.node import NodeClient
from worker.chain.node_errors import outcome_for
from worker.domain.errors import NodeError
from worker.domain.records import Status, TxRecord, now_ms
from worker.settings import Settings
from worker.signing.base import DigestSigner
from worker.signing.transactions import sign_transaction
from worker.store.records import RecordStore
from worker.txfields import apply_plan, build_tx, current_plan, market_request

log = logging.getLogger("kvsigner.replacement")

REPLACEABLE = (Status.SIGNED, Status.SUBMITTED)


class Replacer:
    def __init__(self, settings: Settings, store: RecordStore, node: NodeClient,
                 signer: DigestSigner, chain_id: int,
                 on_change: Callable[[TxRecord], None]) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self.signer = signer
        self.chain_id = chain_id
        self.on_change = on_change

    def next_plan(self, rec: TxRecord) -> FeePlan | None:
        """Fees for the next replacement, or None when the cap forbids a valid bump."""
        current = current_plan(rec)
        market = plan_fees(self.node, market_request(rec), self.settings.fee_base_multiplier)
        plan = bumped(current, self.settings.bump_percent, floor=market)
        cap = self.settings.max_fee_cap_wei
        top = plan.max_fee_per_gas if plan.tx_type == 2 else plan.gas_price
        if top is not None and top > cap:
            # Clamp to the cap, but only if that still beats the current fees by the
            # pools' minimum; otherwise a replacement would just be refused.
            floor_ok = bumped(current, 10)
            floor_top = floor_ok.max_fee_per_gas if plan.tx_type == 2 else floor_ok.gas_price
            if floor_top is None or floor_top > cap:
                return None
            if plan.tx_type == 2:
                tip = min(plan.max_priority_fee_per_gas or 0, cap)
                plan = FeePlan(2, max_fee_per_gas=cap, max_priority_fee_per_gas=max(
                    tip, floor_ok.max_priority_fee_per_gas or 0))
            else:
                plan = FeePlan(plan.tx_type, gas_price=cap)
        return plan

    def replace(self, tx_id: str, *, cancel: bool, note: str) -> TxRecord | None:
        """Sign and broadcast a replacement for ``tx_id`` (a cancellation when ``cancel``).

        The caller holds the record's lease. Returns the updated record, or None when the
        record is not replaceable or the fee cap leaves no valid bump. Node errors other
        than transport failures are logged, not raised: the tracker keeps watching every
        hash and bumps again later.
        """
        rec = self.store.require(tx_id)
        if rec.status not in REPLACEABLE or rec.nonce is None:
            return None
        plan = self.next_plan(rec)
        if plan is None:
            log.warning("transaction %s: fee cap reached, no further bump", tx_id)
            return None
        draft = TxRecord.from_json_dict(rec.to_json_dict())
        draft.cancel_requested = draft.cancel_requested or cancel
        apply_plan(draft, plan)
        with signing_for(draft):
            signed = sign_transaction(self.signer, build_tx(draft, self.chain_id))
        raw, tx_hash = signed.raw_hex, "0x" + bytes(signed.hash).hex()
        nonce = rec.nonce

        def save(r: TxRecord) -> None:
            if r.status not in REPLACEABLE or r.nonce != nonce:
                return
            r.cancel_requested = draft.cancel_requested
            apply_plan(r, plan)
            r.raw, r.hash = raw, tx_hash
            r.hashes.append(tx_hash)
            if draft.cancel_requested:
                r.cancel_hashes.append(tx_hash)
            r.bumps += 1
            r.broadcast_at = now_ms()
            r.note(f"{note}: replaced by {tx_hash}")

        rec, _ = self.store.update(tx_id, save)
        if rec.hash != tx_hash:
            return rec  # the record moved on meanwhile (mined, failed): nothing to send
        self.on_change(rec)
        try:
            self.node.send_raw_transaction(raw)
        except NodeError as exc:
            metrics.node_error(self.store.r, exc)
            log.info("replacement of %s: node answered %s (%s)", tx_id, exc.node_class,
                     outcome_for(exc).action)
        return rec


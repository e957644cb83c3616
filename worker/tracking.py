"""Following a broadcast transaction to its end: receipts, confirmations, reorgs, stuck
transactions.

``Tracker.track(id)`` looks for a receipt of any hash the record has broadcast (the original
and every replacement), checks that the receipt's block is still canonical, and moves the
record to ``mined`` and, at ``KVSIGNER_CONFIRMATIONS`` blocks deep, to ``confirmed``,
``reverted`` or (when a cancellation won) ``cancelled``. A ``mined`` record whose block was
replaced goes back to ``submitted``. A ``submitted`` record with no receipt for
``KVSIGNER_STUCK_SECONDS`` is re-signed with higher fees (same nonce); one that the node
has forgotten is broadcast again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from worker import metrics
from worker.chain.node import NodeClient
from worker.chain.node_errors import outcome_for
from worker.domain.errors import KvsignerError, NodeError
from worker.domain.records import Status, TxRecord, now_ms
from worker.replacement import Replacer
from worker.settings import Settings
from worker.steps import DONE, Step
from worker.store.leases import Leases
from worker.store.records import RecordStore

log = logging.getLogger("kvsigner.tracking")

TRACKED = (Status.SUBMITTED, Status.MINED)
#: Receipt polls a broadcast transaction gets before the node is asked whether it still
#: knows it (and it is broadcast again if not).
DROPPED_CHECK_POLLS = 3


class Tracker:
    def __init__(self, settings: Settings, store: RecordStore, node: NodeClient,
                 leases: Leases, replacer: Replacer, on_change: Callable[[TxRecord], None],
                 requeue_if_nonce_taken: Callable[[TxRecord], bool]) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self.leases = leases
        self.replacer = replacer
        self.on_change = on_change
        self.requeue_if_nonce_taken = requeue_if_nonce_taken

    def tracked_recently(self, tx_id: str) -> bool:
        return self.leases.exists(f"track:{tx_id}")

    def track(self, tx_id: str) -> Step:
        """One look at the record's receipts. Returns ``DONE`` once the record is terminal
        (or not tracked), else when to look again."""
        poll = self.settings.receipt_poll_seconds
        # Duplicate tracking chains (after a sweep or a redelivery) die out here: only one
        # track run per record may start within most of a poll interval.
        if not self.leases.claim(f"track:{tx_id}", poll * 0.8):
            return DONE
        rec = self.store.get(tx_id)
        if rec is None or rec.status not in TRACKED:
            return DONE
        try:
            found, latest = self._canonical_receipt(rec)
            if found is None:
                return self._not_mined(rec)
        except KvsignerError as exc:
            metrics.node_error(self.store.r, exc)
            return Step("track", max(poll, 2.0), exc.code)
        return self._mined(tx_id, found, latest)

    def _mined(self, tx_id: str, found: dict[str, Any], latest: int) -> Step:
        depth = latest - int(found["blockNumber"], 16) + 1
        receipt = _receipt_view(found)
        deep = depth >= self.settings.confirmations

        def change(r: TxRecord) -> None:
            if r.status not in TRACKED:
                return
            won = receipt["transactionHash"]
            if r.receipt != receipt:
                r.receipt = receipt
                r.hash = won
            if not deep:
                if r.status != Status.MINED:
                    r.transition(Status.MINED, f"in block {receipt['blockNumber']}")
            elif won in r.cancel_hashes:
                r.transition(Status.CANCELLED, "the cancellation was mined")
            elif receipt["status"] == 1:
                r.transition(Status.CONFIRMED, _won_note(r, won))
            else:
                r.transition(Status.REVERTED, _won_note(r, won))

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)
        return DONE if rec.status.terminal else Step("track", self.settings.receipt_poll_seconds)

    def _not_mined(self, rec: TxRecord) -> Step:
        poll = self.settings.receipt_poll_seconds
        if rec.status == Status.MINED:
            self._reorged(rec.id)
            return Step("track", poll)
        age = (now_ms() - (rec.broadcast_at or rec.updated_at)) / 1000.0
        if age >= self.settings.stuck_seconds and rec.bumps < self.settings.max_bumps:
            self._bump(rec.id)
        elif age >= DROPPED_CHECK_POLLS * poll and self._dropped_and_taken(rec):
            # Checked only once a transaction has had time to be mined: on a busy node most
            # are mined within a poll or two, and the check costs a node call per poll.
            return Step("process", 0.0, "nonce reassigned")
        return Step("track", poll)

    def _bump(self, tx_id: str) -> None:
        with self.leases.hold(f"tx:{tx_id}", self.settings.lease_seconds) as held:
            if not held:
                return
            try:
                self.replacer.replace(tx_id, cancel=False, note="not mined in time; fee bump")
            except KvsignerError as exc:
                log.warning("fee bump of %s failed: %s", tx_id, exc.code)

    def _dropped_and_taken(self, rec: TxRecord) -> bool:
        """Broadcast the current bytes again if the node has forgotten them (a restart or
        a pool eviction). Returns True when the node says the nonce is used by a
        transaction that is not ours, after putting the record back for a new nonce."""
        if rec.raw is None or rec.hash is None:
            return False
        if self.node.get_transaction(rec.hash) is not None:
            return False
        try:
            self.node.send_raw_transaction(rec.raw)
        except NodeError as exc:
            metrics.node_error(self.store.r, exc)
            if outcome_for(exc).action == "check_nonce":
                return self.requeue_if_nonce_taken(rec)
            log.info("rebroadcast of %s: %s", rec.id, exc.node_class)
        return False

    def _canonical_receipt(self, rec: TxRecord) -> tuple[dict[str, Any] | None, int]:
        """A receipt of one of the record's hashes whose block is still canonical (newest
        hash first), and the latest block number. The receipts of every hash and the block
        number are asked in one batch."""
        hashes = list(reversed(rec.hashes))
        answers = self.node.batch([("eth_getTransactionReceipt", [h]) for h in hashes]
                                  + [("eth_blockNumber", [])])
        latest = int(answers[-1], 16)
        for receipt in answers[:-1]:
            if not receipt or receipt.get("blockNumber") is None:
                continue
            block = self.node.get_block(int(receipt["blockNumber"], 16))
            if block is not None and block.get("hash") == receipt.get("blockHash"):
                return dict(receipt), latest
        return None, latest

    def _reorged(self, tx_id: str) -> None:
        def change(r: TxRecord) -> None:
            if r.status == Status.MINED:
                r.receipt = None
                r.broadcast_at = now_ms()
                r.transition(Status.SUBMITTED, "block replaced (reorg); waiting again")

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)


def _won_note(rec: TxRecord, won: str) -> str:
    if rec.cancel_requested:
        return f"the original transaction won over the cancellation ({won})"
    if len(rec.hashes) > 1:
        return f"mined as {won} (one of {len(rec.hashes)} signed versions)"
    return ""


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

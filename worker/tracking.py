"""Following a broadcast transaction to its end: receipts, confirmations, reorgs, stuck
transactions.

A look at a record finds a receipt of any hash it has broadcast (the original and every
replacement) in a block that is still canonical, and moves the record to ``mined`` and, at
``KVSIGNER_CONFIRMATIONS`` blocks deep, to ``confirmed``, ``reverted`` or (when a
cancellation won) ``cancelled``. A ``mined`` record whose block was replaced goes back to
``submitted``. A ``submitted`` record with no receipt for ``KVSIGNER_STUCK_SECONDS`` is
re-signed with higher fees (same nonce); one that the node has forgotten is broadcast again.

Most looks happen in receipt rounds (``worker.receipt_rounds``), many records at once; fee
bumps and rebroadcasts each get their own ``Tracker.track(id)`` (an ``inspect`` step), which
does the whole look for one record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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

    def track(self, tx_id: str) -> Step:
        """One look at the record's receipts, in place: a stuck transaction is re-signed and
        a forgotten one broadcast again here. Returns ``DONE`` once the record is terminal
        (or not tracked), else when to look again."""
        poll = self.settings.receipt_poll_seconds
        # Duplicate looks (after a sweep or a redelivery) die out here: only one per record
        # may start within most of a poll interval.
        if not self.leases.claim(f"track:{tx_id}", poll * 0.8):
            return DONE
        rec = self.store.get(tx_id)
        if rec is None or rec.status not in TRACKED:
            return DONE
        try:
            found, latest = canonical_receipts(self.node, [rec])
        except KvsignerError as exc:
            metrics.node_error(self.store.r, exc)
            return Step("track", max(poll, 2.0), exc.code)
        return self.follow(rec, found.get(rec.id), latest, inline=True)

    def follow(self, rec: TxRecord, found: dict[str, Any] | None, latest: int,
               inline: bool = False, node_knows: bool | None = None) -> Step:
        """What a look at ``rec`` (whose canonical receipt, if any, is ``found``) leads to.
        With ``inline`` a fee bump or a rebroadcast happens here; otherwise (a receipt
        round) it is handed off as an ``inspect`` step, and a rebroadcast only when
        ``node_knows`` is False."""
        if found is not None:
            return self._mined(rec.id, found, latest)
        return self._not_mined(rec, inline, node_knows)

    def needs_presence_check(self, rec: TxRecord) -> bool:
        """Whether a look at unmined ``rec`` should ask the node if it still knows the
        transaction: only once it has had time to be mined (on a busy node most are
        mined within a poll or two, and the check costs a node call)."""
        return (rec.status == Status.SUBMITTED and rec.hash is not None
                and self._age(rec) >= DROPPED_CHECK_POLLS * self.settings.receipt_poll_seconds)

    def _age(self, rec: TxRecord) -> float:
        return (now_ms() - (rec.broadcast_at or rec.updated_at)) / 1000.0

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

    def _not_mined(self, rec: TxRecord, inline: bool, node_knows: bool | None) -> Step:
        poll = self.settings.receipt_poll_seconds
        if rec.status == Status.MINED:
            self._reorged(rec.id)
            return Step("track", poll)
        if self._age(rec) >= self.settings.stuck_seconds and rec.bumps < self.settings.max_bumps:
            if not inline:
                return Step("inspect", 0.0, "not mined in time")
            self._bump(rec.id)
        elif self.needs_presence_check(rec):
            if not inline:
                return Step("inspect", 0.0, "unknown to the node") if node_knows is False \
                    else Step("track", poll)
            if self._dropped_and_taken(rec):
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

    def _reorged(self, tx_id: str) -> None:
        def change(r: TxRecord) -> None:
            if r.status == Status.MINED:
                r.receipt = None
                r.broadcast_at = now_ms()
                r.transition(Status.SUBMITTED, "block replaced (reorg); waiting again")

        rec, _ = self.store.update(tx_id, change)
        self.on_change(rec)


def canonical_receipts(node: NodeClient, records: Sequence[TxRecord]
                       ) -> tuple[dict[str, dict[str, Any]], int]:
    """For each record with a receipt of one of its hashes in a still-canonical block (newest
    hash first), that receipt by record id; and the latest block number. Three requests at
    most, whatever the number of records: every receipt and the block number in one batch,
    then the blocks those receipts name in another."""
    calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
    owners: list[str] = []
    for rec in records:
        for tx_hash in reversed(rec.hashes):
            calls.append(("eth_getTransactionReceipt", [tx_hash]))
            owners.append(rec.id)
    answers = node.batch(calls)
    latest = int(answers[0], 16)
    candidates = [(owner, receipt) for owner, receipt in zip(owners, answers[1:], strict=True)
                  if receipt and receipt.get("blockNumber") is not None]
    numbers = sorted({receipt["blockNumber"] for _, receipt in candidates})
    blocks = node.batch([("eth_getBlockByNumber", [n, False]) for n in numbers])
    canonical = {n: (block or {}).get("hash") for n, block in zip(numbers, blocks, strict=True)}
    found: dict[str, dict[str, Any]] = {}
    for owner, receipt in candidates:
        if owner not in found and canonical[receipt["blockNumber"]] == receipt.get("blockHash"):
            found[owner] = dict(receipt)
    return found, latest


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

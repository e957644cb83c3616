"""Receipt rounds: one look at every followed transaction that is due, in a few requests.

Following each broadcast transaction with its own task would cost a Celery message, a
lease, a record read and node requests per record and poll. A round reads every due record
at once, asks the node for all their receipts and the block number in one batch, the blocks
those receipts name in a second and, for transactions pending a while, whether the node
still knows them in a third; then it moves each record on (``Tracker.follow``). Fee bumps and
rebroadcasts, which sign or wait on the node, are handed off as ``inspect`` steps so that one
slow record never holds up the round.

Rounds form one chain across the cluster (``worker.tasks.track_round``): each round sends
its successor when it is done, and a token in Redis names the live chain, so a duplicated or
outdated message ends there. When no round has run for ``chain_ttl`` seconds (a worker died
holding the message), the next broadcast, or beat, starts a new chain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis

from worker import metrics
from worker.chain.node import NodeClient
from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord, now_ms
from worker.settings import Settings
from worker.steps import Step
from worker.store.records import RecordStore
from worker.store.tracked import Move, TrackedSet
from worker.tracking import TRACKED, Tracker, canonical_receipts

log = logging.getLogger("kvsigner.rounds")

#: Records looked at per round; when more are due the next round follows at once.
ROUND_SIZE = 500
#: A record that cannot be read is looked at again after this long.
UNREADABLE_RETRY_SECONDS = 30.0
UNREADABLE = object()
READ_ERRORS = (ValueError, TypeError, KeyError)


@dataclass(frozen=True)
class RoundResult:
    """``handoffs``: steps for records that leave the round's care (a per-record look, or
    ``process`` again); ``looked``: records read; ``next_in``: seconds until the next round."""

    handoffs: list[tuple[str, Step]]
    looked: int
    next_in: float


class ReceiptRounds:
    def __init__(self, settings: Settings, store: RecordStore, node: NodeClient,
                 tracked: TrackedSet, tracker: Tracker) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self.tracked = tracked
        self.tracker = tracker

    @property
    def poll(self) -> float:
        return self.settings.receipt_poll_seconds

    @property
    def chain_ttl(self) -> float:
        """How long a chain stays alive without a round: a few polls, so that a lost round
        message stalls tracking briefly, yet longer than a round's own work."""
        return max(10.0, 5 * self.poll)

    def run(self) -> RoundResult:
        """Look at every record that is due (up to ``ROUND_SIZE``)."""
        due = self.tracked.due(ROUND_SIZE)
        handoffs = self._look(due) if due else []
        return RoundResult(handoffs, len(due), self._next_in(full=len(due) == ROUND_SIZE))

    def _next_in(self, full: bool) -> float:
        # Soon enough that a record waits little past its due time, far enough apart that
        # a busy round finds many records to ask about at once.
        if full:
            return 0.0
        until = self.tracked.next_due_in()
        if until is None:
            return self.poll
        return min(self.poll, max(self.poll / 4, until))

    def _look(self, due: list[tuple[str, float]]) -> list[tuple[str, Step]]:
        moves: dict[str, Move] = {}
        follow: list[tuple[TxRecord, float]] = []
        for (tx_id, score), rec in zip(due, self._read([tx_id for tx_id, _ in due]),
                                       strict=True):
            if rec is UNREADABLE:
                moves[tx_id] = (score, now_ms() + UNREADABLE_RETRY_SECONDS * 1000)
            elif not isinstance(rec, TxRecord) or rec.status not in TRACKED:
                moves[tx_id] = (score, None)  # finished, or back for a new nonce
            else:
                follow.append((rec, score))
        try:
            found, latest = canonical_receipts(self.node, [rec for rec, _ in follow])
            knows = self._node_knows([rec for rec, _ in follow if rec.id not in found
                                      and self.tracker.needs_presence_check(rec)])
        except KvsignerError as exc:
            metrics.node_error(self.store.r, exc)
            log.info("receipt round: node unavailable (%s)", exc.code)
            later = now_ms() + max(self.poll, 2.0) * 1000
            moves.update({rec.id: (score, later) for rec, score in follow})
            self.tracked.settle(moves)
            return []
        handoffs: list[tuple[str, Step]] = []
        for rec, score in follow:
            step = self._follow(rec, found.get(rec.id), latest, knows.get(rec.id))
            if step.kind in ("track", "inspect"):
                # An inspected record stays followed: if that look is lost, rounds go on.
                delay = step.delay if step.kind == "track" else self.poll
                moves[rec.id] = (score, now_ms() + delay * 1000)
            else:
                moves[rec.id] = (score, None)
            if step.kind in ("inspect", "process"):
                handoffs.append((rec.id, step))
        self.tracked.settle(moves)
        return handoffs

    def _read(self, ids: list[str]) -> list[TxRecord | object | None]:
        """The records of ``ids`` in one read; if one cannot be read (a record written by a
        newer version during an upgrade, say), one by one, so that it holds up no other."""
        try:
            return list(self.store.get_many(ids))
        except READ_ERRORS:
            return [self._read_one(tx_id) for tx_id in ids]

    def _read_one(self, tx_id: str) -> TxRecord | object | None:
        try:
            return self.store.get(tx_id)
        except READ_ERRORS:
            log.error("receipt round: record %s cannot be read; looking again later", tx_id,
                      exc_info=True)
            return UNREADABLE

    def _follow(self, rec: TxRecord, found: dict[str, Any] | None, latest: int,
                knows: bool | None) -> Step:
        try:
            return self.tracker.follow(rec, found, latest, node_knows=knows)
        except redis.RedisError:
            raise  # every record would fail alike: the round ends, the rest stay due
        except KvsignerError as exc:
            # One record's trouble (a write that keeps conflicting) is not the round's.
            log.warning("receipt round: %s: %s", rec.id, exc.code)
            return Step("track", self.poll, exc.code)
        except Exception:
            # Nor is a fault in one record's handling: the others' receipts still count.
            log.exception("receipt round: following %s failed", rec.id)
            return Step("track", self.poll, "error")

    def _node_knows(self, records: list[TxRecord]) -> dict[str, bool]:
        answers = self.node.batch([("eth_getTransactionByHash", [rec.hash])
                                   for rec in records])
        return {rec.id: answer is not None
                for rec, answer in zip(records, answers, strict=True)}

"""The nonce reconciler: compares each sender's nonce state with the chain and repairs it.

Runs periodically (beat), for every sender with nonce state, under the sender's nonce lock:

- behind the chain (something else sent from the key): ``next`` moves up to the node's
  pending count; a record holding a nonce that was taken meets "nonce too low" and is given
  a new one by the pipeline;
- handed-back nonces the chain has already passed are forgotten;
- ahead of the chain with nonces that no live record holds (a crash between steps, a
  dropped transaction): holes at the top are rewound, holes below a held nonce join the
  free set so the next transaction takes them;
- a free nonce nobody took for ``KVSIGNER_GAP_FILL_SECONDS`` is filled with a 0-value
  self-transfer (a ``filler`` record), so later transactions never wait behind a gap.

Plain code; the Celery task only calls ``reconcile_all``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis

from worker import metrics
from worker.chain.fees import plan_fees
from worker.domain.errors import KvsignerError
from worker.domain.records import TxRecord, TxRequest, new_id
from worker.nonces import LockLost
from worker.services import Services
from worker.store.records import PREFIX
from worker.store.text import as_text
from worker.txfields import CANCEL_GAS, apply_plan

log = logging.getLogger("kvsigner.reconciler")


@dataclass
class Repair:
    """What one reconciliation of one sender changed (for logs, metrics and tests)."""

    sender: str
    raised_to: int | None = None
    rewound_to: int | None = None
    freed: list[int] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)
    fillers: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.raised_to is not None or self.rewound_to is not None or self.freed
                    or self.forgotten or self.fillers)


def senders_with_state(services: Services, chain_id: int) -> list[str]:
    prefix = f"{PREFIX}nonce:{chain_id}:"
    out = []
    for raw in services.redis.scan_iter(match=prefix + "0x*", count=500):
        key = as_text(raw)
        if key.count(":") == 3:
            out.append(key[len(prefix):])
    return sorted(out)


def held_nonces(services: Services, sender: str) -> set[int]:
    """Nonces held by the sender's live (non-terminal) records. Runs under the sender's
    lock, so it reads the active records in batches and parses only those naming it."""
    held: set[int] = set()
    for _, rec in services.store.active_records(mentioning=sender):
        if (rec is not None and rec.sender == sender and rec.nonce is not None
                and not rec.status.terminal):
            held.add(rec.nonce)
    return held


def reconcile_all(services: Services) -> list[Repair]:
    """One pass over every sender; returns the repairs that changed something."""
    chain_id = services.chain_id()
    repairs = []
    for sender in senders_with_state(services, chain_id):
        try:
            repair = reconcile_sender(services, chain_id, sender)
        except KvsignerError as exc:
            log.info("reconcile %s skipped: %s", sender, exc.code)
            continue
        if repair.changed:
            log.warning("nonce repair for %s: %s", sender, repair)
            repairs.append(repair)
            metrics.nonce_repair(services.redis, repair)
    return repairs


def reconcile_sender(services: Services, chain_id: int, sender: str) -> Repair:
    """Repair one sender's nonce state (see the module docstring). Holds its nonce lock."""
    nonces, r = services.nonces, services.redis
    key = nonces.state_key(chain_id, sender)
    free_key = key + ":free"
    repair = Repair(sender)
    with nonces.locked(chain_id, sender) as lock:
        raw_next = r.hget(key, "next")
        if raw_next is None:
            return repair
        next_nonce = int(raw_next)
        # Live records first, the chain after: a record that finishes during the scan was
        # mined (or handed its nonce back under this lock) before the chain is read, so its
        # nonce is either held or below the chain's count -- never mistaken for a hole.
        held = held_nonces(services, sender)
        latest = services.node.latest_nonce(sender)
        pending = services.node.pending_nonce(sender)
        scored: list[tuple[bytes, float]] = r.zrange(
            free_key, 0, -1, withscores=True)
        free = {int(m): float(s) for m, s in scored}
        if next_nonce < pending:
            next_nonce = repair.raised_to = pending
        repair.forgotten = sorted(n for n in free if n < latest)
        live_free = {n: s for n, s in free.items() if n >= latest}
        holes = [n for n in range(max(pending, latest), next_nonce)
                 if n not in held and n not in live_free]
        top = max([n for n in held if n >= latest] + [pending - 1])
        if next_nonce > top + 1:
            # Nothing of ours above ``top``: rewind rather than fill.
            next_nonce = repair.rewound_to = top + 1
            repair.forgotten += sorted(n for n in live_free if n > top)
            holes = [n for n in holes if n <= top]
        repair.freed = [n for n in holes if n < next_nonce]
        with r.pipeline() as pipe:
            # Commit only while the lock is still ours (a slow pass may outlive it).
            pipe.watch(lock.name)
            if pipe.get(lock.name) != lock.token.encode():
                raise LockLost(sender)
            pipe.multi()
            pipe.hset(key, mapping={"next": next_nonce, "synced_at": time.time()})
            if repair.forgotten:
                pipe.zrem(free_key, *[str(n) for n in repair.forgotten])
            if repair.freed:
                pipe.zadd(free_key, {str(n): time.time() for n in repair.freed})
            try:
                pipe.execute()
            except redis.WatchError:
                raise LockLost(sender) from None
        overdue = sorted(n for n, since in live_free.items()
                         if n < next_nonce and time.time() - since
                         >= services.settings.gap_fill_seconds)
        for nonce in overdue:
            if r.zrem(free_key, str(nonce)):
                repair.fillers.append(_create_filler(services, chain_id, sender, nonce))
    return repair


def _create_filler(services: Services, chain_id: int, sender: str, nonce: int) -> str:
    """Store and enqueue a 0-value self-transfer that takes ``nonce``."""
    from worker.submit import enqueue_process

    req = TxRequest(sender=sender, to=sender, value=0, data="0x", gas=CANCEL_GAS)
    rec = TxRecord(id=new_id(), request=req, chain_id=chain_id, kind="filler", nonce=nonce,
                   gas=CANCEL_GAS, metadata={"reason": "nonce gap filler"})
    apply_plan(rec, plan_fees(services.node, req, services.settings.fee_base_multiplier))
    rec.transition(rec.status, f"fills nonce {nonce}")
    services.store.create(rec)
    enqueue_process(rec.id)
    return rec.id

"""Celery tasks: thin adapters from a queue message to a pipeline call.

Each task loads nothing itself; it calls the pipeline and schedules what the returned
``Step`` asks for. Scheduling a follow-up before the current message is acknowledged can
deliver it twice after a crash; the pipeline is idempotent, so that is harmless.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import redis
from celery.signals import worker_ready, worker_shutting_down

from worker import context
from worker.celery_app import RECEIPTS_QUEUE, SEND_QUEUE, app
from worker.reconciler import reconcile_all
from worker.services import Services
from worker.settings import Settings
from worker.steps import Step
from worker.submit import send_drain
from worker.sweeper import sweep_once

log = logging.getLogger("kvsigner.tasks")
#: Transactions one drain takes from the inbox: at least ``DRAIN_BATCH`` (when as many are
#: waiting), and from a deep backlog 1/``DRAIN_SPREAD`` of it, up to ``DRAIN_BATCH_MAX``.
#: Small, because a drain processes them one after another (with a 30 ms vault 4 take some
#: 150 ms), yet each Celery message, its delivery and acknowledgement, the inbox's take and
#: the next drain's publish cost the workers' CPU once per drain; a spread about the
#: cluster's thread count keeps every thread busy until the backlog's end, which goes out in
#: batches of the smallest size.
DRAIN_BATCH = 4
DRAIN_BATCH_MAX = 16
DRAIN_SPREAD = 16
#: Seconds a drain works through its batch before it hands the rest out as separate
#: ``process`` tasks. A batch normally ends well within it (16 transactions with a 30 ms
#: vault take under a second); when the vault throttles, one signature can take a retry's
#: backoff of up to ``KVSIGNER_VAULT_BACKOFF_CAP`` seconds, and the batch's later records
#: should not queue behind it while other threads could take them.
DRAIN_BUDGET = 5.0
_services: Services | None = None
_services_lock = threading.Lock()


def services() -> Services:
    """This worker process's services, built on first use."""
    global _services
    with _services_lock:
        if _services is None:
            _services = Services(Settings.from_env())
        return _services


def schedule(tx_id: str, step: Step) -> None:
    schedule_all([(tx_id, step)])


def schedule_all(steps: list[tuple[str, Step]]) -> None:
    """What each record's ``Step`` asks for; the records to follow join the receipt
    rounds in one round trip."""
    follow = {tx_id: step.delay for tx_id, step in steps if step.kind == "track"}
    if follow:
        svc = services()
        token = svc.tracked.add_many(follow, svc.rounds.chain_ttl)
        if token is not None:  # no chain of receipt rounds was alive: this one starts it
            track_round.apply_async((token,), queue=RECEIPTS_QUEUE)
    for tx_id, step in steps:
        countdown = step.delay or None
        if step.kind == "process":
            process.apply_async((tx_id,), countdown=countdown, queue=SEND_QUEUE)
        elif step.kind == "inspect":
            track.apply_async((tx_id,), countdown=countdown, queue=RECEIPTS_QUEUE)


@app.task(name="kvsigner.process")
def process(tx_id: str) -> None:
    schedule(tx_id, _process(tx_id))


def _process(tx_id: str) -> Step:
    with context.bound(tx_id=tx_id, purpose="transaction"):
        return services().pipeline.process(tx_id)


@app.task(name="kvsigner.drain")
def drain() -> None:
    """New transactions from the inbox (``worker.store.inbox``), a batch (``DRAIN_BATCH``)
    one after another; the next drain is sent first when more are waiting, so that other
    threads share a backlog. One transaction's failure does not hold up the others: it
    stays ``queued`` and the sweeper queues it again. Past ``DRAIN_BUDGET`` seconds the
    batch's remaining transactions go out as ``process`` tasks instead of waiting."""
    svc = services()
    batch = svc.inbox.take(DRAIN_BATCH, DRAIN_BATCH_MAX, DRAIN_SPREAD)
    if batch.more:
        try:
            send_drain(svc.inbox)
        except Exception:  # the mark is given up: the next put or beat's drain follows
            log.warning("the next drain could not be sent", exc_info=True)
    steps: list[tuple[str, Step]] = []
    deadline = time.monotonic() + DRAIN_BUDGET
    # The batch's lease releases, webhook events and stage times take a round trip each,
    # and its broadcast records join the receipt rounds in one more.
    with svc.leases.released_together(), svc.changes_together():
        for index, tx_id in enumerate(batch.ids):
            if time.monotonic() > deadline:
                rest = batch.ids[index:]
                log.info("drain over its %.0f s budget: %d transactions handed out as "
                         "separate tasks", DRAIN_BUDGET, len(rest))
                steps.extend((rest_id, Step("process", 0.0, "drain budget spent"))
                             for rest_id in rest)
                break
            try:
                steps.append((tx_id, _process(tx_id)))
            except Exception:
                log.exception("processing %s failed; the sweeper queues it again", tx_id)
    schedule_all(steps)


@app.task(name="kvsigner.track")
def track(tx_id: str) -> None:
    """One look at one record (a fee bump or a rebroadcast may follow)."""
    with context.bound(tx_id=tx_id, purpose="transaction"):
        schedule(tx_id, services().pipeline.track(tx_id))


@app.task(name="kvsigner.track_round")
def track_round(token: str | None = None) -> None:
    """One receipt round, then the next (``worker.receipt_rounds``). ``token`` names the
    chain this message belongs to; a message of a replaced chain, or a second delivery, ends
    here. Without a token (beat) a chain is started only if none is alive."""
    svc = services()
    rounds = svc.rounds
    if token is None:
        token = svc.tracked.start_chain(rounds.chain_ttl)
        if token is None:
            return
    following = svc.tracked.advance(token, rounds.chain_ttl)
    if following is None:
        return
    next_in = rounds.poll
    try:
        # A second chain exists only if a round outlived the chain's expiry; the lease keeps
        # two rounds from running at once even then.
        with svc.leases.hold("track-round", rounds.chain_ttl) as held, \
                svc.changes_together():
            if held:
                result = rounds.run()
                next_in = result.next_in
                for tx_id, step in result.handoffs:
                    schedule(tx_id, step)
    finally:
        track_round.apply_async((following,), countdown=next_in or None,
                                queue=RECEIPTS_QUEUE)


@app.task(name="kvsigner.sweep")
def sweep() -> None:
    for tx_id, step in sweep_once(services()):
        schedule(tx_id, step)
    services().store.prune_expired()


@app.task(name="kvsigner.reconcile")
def reconcile() -> None:
    # One pass at a time across the cluster: beat may fire while a slow pass still runs.
    with services().leases.hold("reconcile", 120) as held:
        if held:
            reconcile_all(services())


# --- liveness: each worker process keeps a short-lived key in Redis (read by GET /status) --
HEARTBEAT_SECONDS = 5.0
_stop_heartbeat = threading.Event()


def _heartbeat(name: str) -> None:
    key = f"kvsigner:worker:{name}"
    while not _stop_heartbeat.is_set():
        try:
            services().redis.set(key, "1", ex=int(HEARTBEAT_SECONDS * 3))
        except redis.RedisError:  # Redis down: keep trying; the key simply expires
            log.debug("heartbeat failed", exc_info=True)
        _stop_heartbeat.wait(HEARTBEAT_SECONDS)
    with contextlib.suppress(redis.RedisError):
        services().redis.delete(key)


@worker_ready.connect
def _start_heartbeat(sender: object = None, **_: object) -> None:
    name = str(getattr(sender, "hostname", "worker"))
    threading.Thread(target=_heartbeat, args=(name,), name="kvsigner-heartbeat",
                     daemon=True).start()


@worker_shutting_down.connect
def _end_heartbeat(**_: object) -> None:
    _stop_heartbeat.set()

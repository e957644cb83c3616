"""Every metric kvsigner exposes, and the functions that record the worker-side ones.

Workers are separate processes on possibly many machines, so a process-local Prometheus
registry in a worker would be invisible to whoever scrapes the API. Each recording function
here therefore adds to Redis instead (one pipelined round trip) and ``api.metrics`` renders
the sums with a custom collector at ``GET /metrics``. Recording never raises into the caller:
a metric is not worth failing a transaction for, so Redis errors are logged at debug level and
the sample is lost. Gauges (transactions by status, queue depths, audit entries, followed
transactions) are not recorded at all: the collector reads them from Redis when scraped.

Redis layout, all under ``kvsigner:metrics:``::

    counter:{name}   hash  JSON list of label values -> count
    hist:{name}      hash  JSON [label values..., upper bound] -> observations in that bucket
                           only (the collector accumulates); [label values..., "sum"] -> sum
    seen:{tx id}     hash  stage -> 1: stages already observed for a record, so a stage is
                           counted once even when Celery runs a step twice

Call sites are one line each: ``stage_sample`` rides on the pipeline's change hook (stage
times, with the webhook publication's round trip),
``node_error`` sits where the pipeline, tracker and replacer handle node errors,
``nonce_repair`` in the reconciler, ``webhook_delivery`` where an attempt is recorded,
``vault_sign`` in ``worker.audit`` and ``vault_failure`` in the vault retry loop.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import redis

from worker.chain.node_errors import NodeErrorClass
from worker.domain.records import Status, TxRecord
from worker.lru import LruMap
from worker.queues import QUEUES

if TYPE_CHECKING:
    from worker.reconciler import Repair

log = logging.getLogger("kvsigner.metrics")

PREFIX = "kvsigner:metrics:"
INF = "+Inf"
#: How long a record's observed stages are remembered (longer than any record stays active).
SEEN_TTL_SECONDS = 35 * 24 * 3600


@dataclass(frozen=True)
class Metric:
    """One metric family. ``series`` are label values shown (as zero) before any sample, so
    dashboards and ``rate()`` see every series from the start."""

    name: str
    kind: Literal["counter", "histogram", "gauge"]
    doc: str
    labels: tuple[str, ...] = ()
    series: tuple[tuple[str, ...], ...] = ((),)
    buckets: tuple[float, ...] = ()

    @property
    def key(self) -> str:
        return f"{PREFIX}{'hist' if self.kind == 'histogram' else self.kind}:{self.name}"


def _each(values: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple((v,) for v in values)


#: Stages whose time since acceptance is observed, and the statuses that first reach each.
STAGES: dict[str, frozenset[str]] = {
    "signed": frozenset({Status.SIGNED}),
    "submitted": frozenset({Status.SUBMITTED}),
    # With KVSIGNER_CONFIRMATIONS=1 a record goes from submitted straight to confirmed.
    "mined": frozenset({Status.MINED, Status.CONFIRMED, Status.REVERTED}),
    "confirmed": frozenset({Status.CONFIRMED}),
}
NODE_CLASSES = (*[c.value for c in NodeErrorClass], "TRANSPORT")
REPAIR_KINDS = ("raised", "rewound", "freed", "forgotten", "filler")
WEBHOOK_OUTCOMES = ("delivered", "retry", "failed")

TRANSACTIONS = Metric("kvsigner_transactions", "gauge", "Transaction records by status.",
                      ("status",), _each(tuple(s.value for s in Status)))
QUEUE_DEPTH = Metric("kvsigner_queue_depth", "gauge", "Messages waiting in each Celery queue.",
                     ("queue",), _each(QUEUES))
AUDIT_ENTRIES = Metric("kvsigner_audit_entries", "gauge", "Entries in the audit log stream.")
TRACKED = Metric("kvsigner_tracked_transactions", "gauge",
                 "Broadcast transactions that receipt rounds are following.")
INBOX = Metric("kvsigner_inbox_transactions", "gauge",
               "Accepted transactions waiting in the inbox for a drain task.")
REDIS_UP = Metric("kvsigner_redis_up", "gauge",
                  "1 when the metrics could be read from Redis, else 0.")
STAGE_SECONDS = Metric(
    "kvsigner_transaction_stage_seconds", "histogram",
    "Seconds from a transaction's acceptance to the first time it reached a stage.",
    ("stage",), _each(tuple(STAGES)),
    (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600))
VAULT_SIGN_SECONDS = Metric(
    "kvsigner_vault_sign_seconds", "histogram",
    "Seconds one vault signature took, rate-limit waits and retries included.",
    ("outcome",), _each(("ok", "error")),
    (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
VAULT_THROTTLED = Metric("kvsigner_vault_throttled_total", "counter",
                         "Vault sign attempts answered 429 (throttled).")
VAULT_RETRIES = Metric("kvsigner_vault_retries_total", "counter",
                       "Vault sign attempts retried after throttling, 5xx or a timeout.")
NODE_ERRORS = Metric("kvsigner_node_errors_total", "counter",
                     "Errors the Ethereum node answered, by class (worker.chain.node_errors).",
                     ("class",), _each(NODE_CLASSES))
NONCE_REPAIRS = Metric("kvsigner_nonce_repairs_total", "counter",
                       "Nonces repaired by the reconciler, by kind of repair.",
                       ("kind",), _each(REPAIR_KINDS))
WEBHOOK_DELIVERIES = Metric("kvsigner_webhook_deliveries_total", "counter",
                            "Webhook delivery attempts by outcome.",
                            ("outcome",), _each(WEBHOOK_OUTCOMES))

#: Recorded in Redis by the functions below (the collector reads each ``key``).
RECORDED = (STAGE_SECONDS, VAULT_SIGN_SECONDS, VAULT_THROTTLED, VAULT_RETRIES, NODE_ERRORS,
            NONCE_REPAIRS, WEBHOOK_DELIVERIES)
#: Read by the collector at scrape time.
SCRAPED = (TRANSACTIONS, QUEUE_DEPTH, AUDIT_ENTRIES, TRACKED, INBOX, REDIS_UP)
ALL = RECORDED + SCRAPED

# The Redis client for code that has none at hand (the vault retry loop): bound by whoever
# calls into it, i.e. ``worker.audit`` around each vault call.
_sink: ContextVar[redis.Redis | None] = ContextVar("kvsigner_metrics_sink", default=None)


def bucket_name(bound: float) -> str:
    """The field name of a histogram bucket (also used by the collector)."""
    return repr(float(bound))


@functools.lru_cache(maxsize=4096)
def field(*parts: str) -> str:
    """The hash field of one labelled series (a JSON list of its label values); the same
    few hundred come up again and again, so each is made once."""
    return json.dumps(list(parts))


def _run(client: redis.Redis | None, commands: Callable[[Any], None]) -> list[Any] | None:
    """Queue ``commands`` on one non-transactional pipeline and run it; None on any failure."""
    if client is None:
        return None
    try:
        with client.pipeline(transaction=False) as pipe:
            commands(pipe)
            return list(pipe.execute())
    except Exception:  # a lost sample must never fail the caller, whatever went wrong
        log.debug("recording a metric failed", exc_info=True)
        return None


def _bucket_field(metric: Metric, value: float, *labels: str) -> str:
    """The histogram field counting ``value``: its bucket's upper bound, or +Inf."""
    bound = next((b for b in metric.buckets if value <= b), None)
    return field(*labels, INF if bound is None else bucket_name(bound))


def _observe(pipe: Any, metric: Metric, value: float, *labels: str) -> None:
    pipe.hincrby(metric.key, _bucket_field(metric, value, *labels), 1)
    pipe.hincrbyfloat(metric.key, field(*labels, "sum"), value)


@contextmanager
def recording(client: redis.Redis) -> Iterator[None]:
    """Send metrics recorded without a client (``vault_failure``) to ``client`` in this
    block (per thread and task, like every context variable)."""
    token = _sink.set(client)
    try:
        yield
    finally:
        _sink.reset(token)


# --- recording functions: one per call site --------------------------------------------------

def vault_sign(client: redis.Redis, seconds: float, ok: bool) -> None:
    """One signature through the vault took ``seconds`` and succeeded (``ok``) or not."""
    _run(client, lambda p: queue_vault_sign(p, seconds, ok))


def queue_vault_sign(pipe: Any, seconds: float, ok: bool) -> None:
    """``vault_sign``'s commands, queued on the caller's pipeline (which runs them)."""
    _observe(pipe, VAULT_SIGN_SECONDS, seconds, "ok" if ok else "error")


def vault_failure(code: str, retrying: bool) -> None:
    """A vault sign attempt failed with ``code``; ``retrying``: another attempt follows.
    Recorded in the client bound by ``recording`` (nowhere when none is bound)."""
    def commands(pipe: Any) -> None:
        if code == "vault_throttled":
            pipe.hincrby(VAULT_THROTTLED.key, field(), 1)
        if retrying:
            pipe.hincrby(VAULT_RETRIES.key, field(), 1)

    _run(_sink.get(), commands)


def node_error(client: redis.Redis, exc: BaseException) -> None:
    """Count ``exc`` by its node class when it is a ``NodeError``; other errors are ignored,
    so call sites that handle any ``KvsignerError`` may pass it as it is."""
    node_class = getattr(exc, "node_class", None)
    if isinstance(node_class, str):
        _run(client, lambda p: p.hincrby(NODE_ERRORS.key, field(node_class), 1))


def nonce_repair(client: redis.Redis, repair: Repair) -> None:
    """Count the nonces one reconciliation of one sender repaired, by kind."""
    counts = {"raised": int(repair.raised_to is not None),
              "rewound": int(repair.rewound_to is not None), "freed": len(repair.freed),
              "forgotten": len(repair.forgotten), "filler": len(repair.fillers)}

    def commands(pipe: Any) -> None:
        for kind, amount in counts.items():
            if amount:
                pipe.hincrby(NONCE_REPAIRS.key, field(kind), amount)

    _run(client, commands)


def webhook_delivery(client: redis.Redis, outcome: str) -> None:
    """One webhook delivery attempt ended ``delivered``, ``retry`` or ``failed``."""
    _run(client, lambda p: p.hincrby(WEBHOOK_DELIVERIES.key, field(outcome), 1))


# KEYS: the record's seen-stages hash, the stage histogram. ARGV: the seen hash's expiry,
# then per stage: name, bucket field, sum field, seconds. Each stage counts once.
_STAGE_ONCE = """
for i = 2, #ARGV, 4 do
    if redis.call('hsetnx', KEYS[1], ARGV[i], 1) == 1 then
        redis.call('expire', KEYS[1], ARGV[1])
        redis.call('hincrby', KEYS[2], ARGV[i + 1], 1)
        redis.call('hincrbyfloat', KEYS[2], ARGV[i + 2], ARGV[i + 3])
    end
end
return 0
"""
#: Per process: the stages already counted per record, so that the change hook's repeated
#: calls for one record cost no round trip.
_counted: LruMap[str, frozenset[str]] = LruMap()


@functools.lru_cache(maxsize=16)
def _stage_script(client: redis.Redis) -> Any:
    """The stage script bound to ``client``, made once per client (a process has one or
    two; tests make more, hence the bound)."""
    return client.register_script(_STAGE_ONCE)


@dataclass(frozen=True)
class StageSample:
    """The stage times a record's change reached that this process has not counted yet.

    ``queue(pipe)`` puts the counting script on a pipeline another round trip runs anyway
    (by its SHA: a script queued on a redis-py pipeline costs a SCRIPT EXISTS trip first);
    ``settle(client, outcome)`` takes what that command answered. ``record(client)`` does
    both in a trip of its own."""

    tx_id: str
    known: frozenset[str]
    new: frozenset[str]
    args: tuple[Any, ...]

    @property
    def keys(self) -> list[str]:
        return [f"{PREFIX}seen:{self.tx_id}", STAGE_SECONDS.key]

    def queue(self, pipe: Any) -> None:
        pipe.evalsha(_STAGE_SHA, 2, *self.keys, *self.args)

    def settle(self, client: redis.Redis, outcome: Any) -> None:
        """Never raises: a lost sample must never fail the caller."""
        if isinstance(outcome, redis.exceptions.NoScriptError):
            self.record(client)  # Redis restarted or flushed its scripts: load it again
            return
        if isinstance(outcome, Exception):
            log.debug("recording a metric failed: %r", outcome)
            return
        _counted.put(self.tx_id, self.known | self.new)

    def record(self, client: redis.Redis) -> None:
        """Never raises."""
        try:
            _stage_script(client)(keys=self.keys, args=list(self.args))
        except Exception:  # a lost sample must never fail the caller, whatever went wrong
            log.debug("recording a metric failed", exc_info=True)
            return
        _counted.put(self.tx_id, self.known | self.new)


# Redis names a script by its SHA-1 (an identifier here, not a safeguard).
_STAGE_SHA = hashlib.sha1(_STAGE_ONCE.encode(), usedforsecurity=False).hexdigest()


def stage_sample(rec: TxRecord) -> StageSample | None:
    """The time from acceptance to each stage ``rec``'s history has reached and this
    process has not counted yet (None when there is none). Counted once per record and
    stage across all processes (the script claims each first)."""
    firsts: dict[str, int] = {}
    for entry in rec.history:
        for stage, statuses in STAGES.items():
            if entry.status in statuses and stage not in firsts:
                firsts[stage] = entry.at
    known = _counted.get(rec.id) or frozenset()
    new = [stage for stage in firsts if stage not in known]
    if not new:
        return None
    args: list[Any] = [SEEN_TTL_SECONDS]
    for stage in new:
        # Clocks of different machines may disagree a little: never a negative time.
        seconds = max(0, firsts[stage] - rec.created_at) / 1000.0
        args += [stage, _bucket_field(STAGE_SECONDS, seconds, stage), field(stage, "sum"),
                 seconds]
    return StageSample(rec.id, known, frozenset(new), tuple(args))


def stage_reached(client: redis.Redis, rec: TxRecord) -> None:
    """``stage_sample(rec)`` recorded in a round trip of its own (none when nothing is
    new). Never raises."""
    sample = stage_sample(rec)
    if sample is not None:
        sample.record(client)

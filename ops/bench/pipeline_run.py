"""Transactions through the service: ``POST /transactions`` from many clients, then every
receipt.

Latencies come from two clocks on purpose: the 202 is timed by the client, while the moment
a receipt was found is read from the record's own history (the worker's clock), so how often
the benchmark polls does not change the numbers. Waiting is cheap for the API: one
``limit=1`` listing per sender and unfinished status tells whether that sender still has work
in flight; the records are fetched once, at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ops.bench.client import ApiClient, ApiError, Submitted

UNFINISHED = ("queued", "signed", "submitted", "mined")  # in the order records move
FINISHED = frozenset({"confirmed", "reverted", "failed", "cancelled"})
RECEIPT_STATUSES = frozenset({"mined", "confirmed", "reverted", "cancelled"})
#: A plain value transfer to an account costs exactly this much gas.
TRANSFER_GAS = 21000


@dataclass
class PipelineResult:
    """``records`` maps each accepted id to its last fetched record; ``seconds`` runs from
    the first POST to the last receipt the workers found."""

    txs: int
    submitted: list[Submitted] = field(default_factory=list)
    submit_errors: list[str] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    submit_seconds: float = 0.0
    mined_ms: list[float] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Not accepted, not finished, or finished other than ``confirmed``."""
        done = sum(1 for r in self.records.values() if r.get("status") == "confirmed")
        return self.txs - done

    @property
    def tps(self) -> float:
        return (self.txs - self.failed) / self.seconds if self.seconds > 0 else 0.0


def parse_time(text: str) -> float:
    """The API's ``2024-01-02T03:04:05.678Z`` as seconds since the epoch."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def receipt_time(record: dict[str, Any]) -> float | None:
    """When a worker first found the record's receipt (history), or None."""
    for entry in record.get("history", []):
        if entry.get("status") in RECEIPT_STATUSES:
            return parse_time(entry["at"])
    return None


def transfer(sender: str, sink: str) -> dict[str, Any]:
    """The transfer both loops send: the direct loop signs exactly this (with the gas limit
    given, so neither side asks the node for an estimate)."""
    return {"from": sender, "to": sink, "value": "1", "gas": TRANSFER_GAS}


def warm_up(api: ApiClient, senders: Sequence[str], sink: str, timeout: float,
            clients: int = 1) -> None:
    """A transaction per sender (at least one per client), posted from ``clients`` threads
    at once and waited for: workers connect and fetch tokens and keys, and the client's
    connections for the measured run are opened, each to an API process that has served
    a request (its first one loads the vault's keys)."""
    bodies = [transfer(senders[i % len(senders)], sink)
              for i in range(max(len(senders), clients))]
    with ThreadPoolExecutor(max(1, clients), thread_name_prefix="bench-warm") as pool:
        ids = [s.id for s in pool.map(api.submit, bodies)]
    fetch_until_finished(api, ids, timeout)


def run_pipeline(api: ApiClient, senders: Sequence[str], txs: int, sink: str,
                 clients: int, timeout: float, rate: float | None = None,
                 on_finished: Callable[[], None] | None = None) -> PipelineResult:
    """POST ``txs`` transfers round-robin over ``senders`` from ``clients`` threads and
    wait (at most ``timeout`` seconds after the last POST) until every one is finished.
    ``on_finished()`` runs once they are (or time is up), before every record is read
    back.

    Without ``rate`` each client posts again as soon as it has its answer (the API's
    capacity sets the pace, so latencies include queueing in the API); with ``rate`` POST
    number i starts no earlier than i/rate seconds in (an open-loop load)."""
    result = PipelineResult(txs=txs)
    bodies = [transfer(senders[i % len(senders)], sink) for i in range(txs)]
    t0 = time.perf_counter()

    def post(numbered: tuple[int, dict[str, Any]]) -> Submitted | str:
        index, body = numbered
        if rate:
            time.sleep(max(0.0, t0 + index / rate - time.perf_counter()))
        try:
            return api.submit(body)
        except (ApiError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(clients, thread_name_prefix="bench-post") as pool:
        for outcome in pool.map(post, enumerate(bodies)):
            if isinstance(outcome, Submitted):
                result.submitted.append(outcome)
            else:
                result.submit_errors.append(outcome)
    result.submit_seconds = time.perf_counter() - t0
    print(f"bench: {len(result.submitted)} accepted in {result.submit_seconds:.1f}s; "
          "waiting for receipts ...", file=sys.stderr, flush=True)
    ids = [s.id for s in result.submitted]
    wait_quietly(api, senders, set(ids), timeout)
    if on_finished is not None:
        on_finished()
    result.records = fetch_until_finished(api, ids, timeout)
    first = min((s.started_at for s in result.submitted), default=0.0)
    last = first
    for sub in result.submitted:
        found = receipt_time(result.records.get(sub.id, {}))
        if found is not None:
            result.mined_ms.append((found - sub.started_at) * 1000.0)
            last = max(last, found)
    result.seconds = last - first
    return result


def wait_quietly(api: ApiClient, senders: Sequence[str], ids: set[str], timeout: float,
                 interval: float = 1.0) -> bool:
    """Until no sender has one of ``ids`` in an unfinished status; False on timeout.

    Statuses are probed in the order records move through them, so a record advancing
    between two probes is still seen in a later one."""
    deadline = time.monotonic() + timeout
    busy = list(senders)
    while busy and time.monotonic() < deadline:
        busy = [s for s in busy if _has_unfinished(api, s, ids)]
        if busy:
            time.sleep(interval)
    return not busy


def _has_unfinished(api: ApiClient, sender: str, ids: set[str]) -> bool:
    for status in UNFINISHED:
        newest = api.newest(sender, status)
        if not newest:
            continue
        if newest[0]["id"] in ids:
            return True
        # Someone else's record is newer: look further down this status's list.
        if any(r["id"] in ids for r in api.newest(sender, status, 200)):
            return True
    return False


def fetch_until_finished(api: ApiClient, ids: Sequence[str], timeout: float,
                         threads: int = 8) -> dict[str, dict[str, Any]]:
    """Fetch every record, again for those not finished, until all are or time is up."""
    records: dict[str, dict[str, Any]] = {}
    pending = list(ids)
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(threads, thread_name_prefix="bench-get") as pool:
        while pending:
            for record in pool.map(api.get, pending):
                records[str(record["id"])] = record
            pending = [i for i in pending if records[i]["status"] not in FINISHED]
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    return records

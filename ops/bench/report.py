"""Numbers out of a run: percentiles, where a transaction's time went, the JSON and the table.

The JSON object always has the fields ``txs failed pipeline_tps direct_tps ratio
submit_p50_ms submit_p99_ms mined_p50_ms mined_p99_ms nonce_gaps duplicates`` (``direct_tps``
and ``ratio`` are null when the direct loop was skipped), plus details for people.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ops.bench.checks import NonceReport
from ops.bench.direct_run import DirectResult
from ops.bench.pipeline_run import PipelineResult, parse_time

# (name, where it starts, where it ends) in a record's history: the pipeline's stages.
STAGES = (
    ("queued_to_nonce", "accepted", "nonce"),
    ("nonce_to_signed", "nonce", "signed"),
    ("signed_to_submitted", "signed", "submitted"),
    ("submitted_to_receipt", "submitted", "receipt"),
)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (``None`` for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _milestones(record: Mapping[str, Any]) -> dict[str, float]:
    """When each milestone of one record first happened (seconds since the epoch)."""
    seen: dict[str, float] = {}
    for entry in record.get("history", []):
        at = parse_time(entry["at"])
        status, note = entry.get("status"), str(entry.get("note", ""))
        if status == "queued" and note == "accepted":
            seen.setdefault("accepted", at)
        elif status == "queued" and note.startswith("nonce "):
            seen.setdefault("nonce", at)
        elif status in ("signed", "submitted"):
            seen.setdefault(status, at)
        elif status in ("mined", "confirmed", "reverted", "cancelled"):
            seen.setdefault("receipt", at)
    return seen


def stage_p50_ms(records: Iterable[Mapping[str, Any]]) -> dict[str, float | None]:
    """Median milliseconds of each stage over the records that went through it."""
    spans: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for record in records:
        seen = _milestones(record)
        for name, begin, end in STAGES:
            if begin in seen and end in seen:
                spans[name].append((seen[end] - seen[begin]) * 1000.0)
    return {name: _round(percentile(v, 50)) for name, v in spans.items()}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def build(pipeline: PipelineResult, direct: DirectResult | None, nonces: NonceReport,
          params: Mapping[str, Any], notes: Sequence[str]) -> dict[str, Any]:
    """The result object printed with ``--json``."""
    submit = [s.latency_ms for s in pipeline.submitted]
    direct_tps = direct.tps if direct is not None else None
    ratio = pipeline.tps / direct_tps if direct_tps else None
    return {
        "txs": pipeline.txs,
        "failed": pipeline.failed,
        "pipeline_tps": _round(pipeline.tps, 2),
        "direct_tps": _round(direct_tps, 2),
        "ratio": _round(ratio, 3),
        "submit_p50_ms": _round(percentile(submit, 50)),
        "submit_p99_ms": _round(percentile(submit, 99)),
        "mined_p50_ms": _round(percentile(pipeline.mined_ms, 50)),
        "mined_p99_ms": _round(percentile(pipeline.mined_ms, 99)),
        "nonce_gaps": nonces.gaps,
        "duplicates": nonces.duplicates,
        "nonce_mismatched": nonces.mismatched,
        "submit_errors": len(pipeline.submit_errors),
        "pipeline_seconds": _round(pipeline.seconds, 3),
        "submit_seconds": _round(pipeline.submit_seconds, 3),
        "submit_tps": _round(len(pipeline.submitted) / pipeline.submit_seconds
                             if pipeline.submit_seconds else None, 2),
        "stage_p50_ms": stage_p50_ms(pipeline.records.values()),
        "direct_seconds": None if direct is None else _round(direct.seconds, 3),
        "direct_failed": None if direct is None else direct.failed,
        "direct_sign_p50_ms": None if direct is None else _round(percentile(direct.sign_ms, 50)),
        "direct_send_p50_ms": None if direct is None else _round(percentile(direct.send_ms, 50)),
        **dict(params),
        "notes": list(notes),
    }


def table(result: Mapping[str, Any]) -> str:
    """A readable summary of ``build``'s object."""
    def show(value: Any, unit: str = "") -> str:
        return "-" if value is None else f"{value}{unit}"

    stages = result.get("stage_p50_ms") or {}
    lines = [
        f"kvsigner bench: {result['txs']} transactions from {result.get('senders')} senders, "
        f"{result.get('workers')} workers x {result.get('worker_concurrency')} threads, "
        f"vault latency {result.get('kv_latency_ms')} ms",
        "",
        f"  {'':<26}{'pipeline':>12}{'direct':>12}",
        f"  {'transactions/s':<26}{show(result['pipeline_tps']):>12}"
        f"{show(result['direct_tps']):>12}",
        f"  {'seconds':<26}{show(result['pipeline_seconds']):>12}"
        f"{show(result['direct_seconds']):>12}",
        f"  {'failed':<26}{show(result['failed']):>12}{show(result['direct_failed']):>12}",
        "",
        f"  ratio pipeline/direct     {show(result['ratio'])}",
        f"  POST -> 202        p50 {show(result['submit_p50_ms'], ' ms')}, "
        f"p99 {show(result['submit_p99_ms'], ' ms')} ({show(result['submit_tps'])}/s accepted)",
        f"  POST -> receipt    p50 {show(result['mined_p50_ms'], ' ms')}, "
        f"p99 {show(result['mined_p99_ms'], ' ms')}",
        f"  nonce gaps {result['nonce_gaps']}, duplicates {result['duplicates']}, "
        f"mismatched {result['nonce_mismatched']}",
        "  pipeline stages (p50): " + ", ".join(
            f"{name} {show(ms, ' ms')}" for name, ms in stages.items()),
        f"  direct loop (p50): sign {show(result['direct_sign_p50_ms'], ' ms')}, "
        f"send {show(result['direct_send_p50_ms'], ' ms')}",
    ]
    by_role = result.get("pipeline_cpu_ms_by_role")
    if by_role:
        lines.append(
            f"  CPU per transaction: pipeline {show(result.get('pipeline_cpu_ms_per_tx'))} ms ("
            + ", ".join(f"{role} {ms}" for role, ms in by_role.items())
            + f"), direct {show(result.get('direct_cpu_ms_per_tx'))} ms")
    lines += [f"  note: {note}" for note in result.get("notes", [])]
    return "\n".join(lines)

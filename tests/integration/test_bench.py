"""`kvsigner bench` as an operator runs it: it starts its own stack, sends transactions through
the API and the direct loop, and prints one JSON object whose integrity numbers are clean.
Speed is the benchmark's business, not this test's: no throughput is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ops.processes import ROOT

pytestmark = pytest.mark.integration

FIELDS = ("txs", "failed", "pipeline_tps", "direct_tps", "ratio", "submit_p50_ms",
          "submit_p99_ms", "mined_p50_ms", "mined_p99_ms", "nonce_gaps", "duplicates")


def test_bench_reports_every_field_and_no_nonce_faults() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ops.cli", "bench", "--txs", "40", "--senders", "2",
         "--workers", "1", "--kv-latency-ms", "0", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert isinstance(result, dict)
    for name in FIELDS:
        assert name in result, name
    assert result["txs"] == 40
    assert result["failed"] == 0, result
    assert result["nonce_gaps"] == 0, result
    assert result["duplicates"] == 0, result
    # The direct loop ran too (the started stack has a vault), so the ratio exists.
    assert result["direct_tps"] > 0 and result["ratio"] > 0
    for name in ("submit_p50_ms", "submit_p99_ms", "mined_p50_ms", "mined_p99_ms"):
        assert result[name] > 0, name
    assert result["submit_p50_ms"] <= result["submit_p99_ms"]
    assert result["mined_p50_ms"] <= result["mined_p99_ms"]

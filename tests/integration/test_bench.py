"""`kvsigner bench` as an operator runs it: it starts its own stack, sends transactions through
the API and the direct loop, and prints one JSON object whose integrity numbers are clean.
Speed is the benchmark's business, not this test's: no throughput is asserted."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

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
    # Its workers yield the CPU to the API (KVSIGNER_WORKER_NICE), and the report says so.
    assert result["worker_nice"] == 10
    # Its emulator enforces no quota, so neither loop paces itself to one.
    assert result["vault_rate_limit"] == 0
    # Its own anvil is watched (ops/anvil_nudge.py) and the report says how often it helped.
    assert isinstance(result["node_nudges"], int) and result["node_nudges"] >= 0


def test_a_terminated_bench_stops_the_stack_it_started(tmp_path: Path) -> None:
    data = tmp_path / "bench"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "bench", "--txs", "5000", "--senders", "2",
         "--workers", "1", "--skip-direct", "--json", "--data-dir", str(data)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    redis_url = node_url = ""
    left: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while not (data / "dev.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the stack never came up"
            time.sleep(0.2)
        info = json.loads((data / "dev.json").read_text())
        redis_url, node_url = info["redisUrl"], info["nodeUrl"]
        assert _processes_using(redis_url, node_url, data), "the stack's processes are not visible"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        if redis_url:
            left = _processes_using(redis_url, node_url, data)
        for pid in left:  # never leave them loading the machine for the tests that follow
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    assert code == 130
    assert left == [], "processes of the stack outlived the bench"


def _processes_using(redis_url: str, node_url: str, data: Path) -> list[int]:
    """Processes of the stack: the kvsigner ones point at its Redis (environment), anvil
    listens on its node port, the others keep files under its data directory (command line
    or working directory)."""
    needle = f"KVSIGNER_REDIS_URL={redis_url}".encode()
    anvil_port = f"--port {urlsplit(node_url).port} "
    folder = str(data.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if (needle in env or folder in cmdline or cwd.startswith(folder)
                or ("anvil" in cmdline and anvil_port in cmdline)):
            found.append(int(entry.name))
    return found

"""`kvsigner dev` as a user runs it (what `make run` does): it comes up, writes dev.json,
prints a curl that sends a transaction which gets mined, and stops cleanly on Ctrl-C. The
workers and beat run at a lower CPU priority than the API."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ops.processes import ROOT, free_port
from tests.integration.stack_helpers import use_stack, wait_terminal

pytestmark = pytest.mark.integration


def test_dev_command_comes_up_and_its_curl_mines_a_transaction(tmp_path: Path) -> None:
    data_dir = tmp_path / "dev"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "dev", "--api-port", str(port), "--workers", "1",
         "--keys", "2", "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(output)
        assert "kvsigner dev stack is up" in text, text
        info = json.loads((data_dir / "dev.json").read_text())
        use_stack(info)
        for key in ("api", "rpc", "vaultUrl", "caFile", "nodeUrl", "redisUrl", "accounts"):
            assert info[key], key
        assert len(info["accounts"]) == 2
        check_scheduling(proc.pid)
        for account in info["accounts"]:
            assert account in text
        curl = next(line.strip() for line in output if line.strip().startswith("curl -s -X POST"))
        sent = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=30,
                              check=True)
        tx_id = json.loads(sent.stdout)["id"]
        assert re.fullmatch(r"[0-9a-f]{32}", tx_id)
        rec = wait_terminal(info["api"], [tx_id], 90)[tx_id]
        assert rec["status"] == "confirmed", rec
        assert rec["receipt"]["blockNumber"] >= 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, "".join(output) + rest
    assert "stopping" in rest


def niceness(pid: int) -> set[int]:
    """The niceness of every thread of ``pid`` (on Linux a thread has its own)."""
    return {os.getpriority(os.PRIO_PROCESS, t.id) for t in psutil.Process(pid).threads()}


def session_niceness(pid: int) -> int:
    """The niceness of the autogroup (the session's share of the CPU) ``pid`` is in."""
    text = Path(f"/proc/{pid}/autogroup").read_text()  # "/autogroup-42 nice 10"
    return int(text.split()[-1])


def check_scheduling(dev_pid: int) -> None:
    """Every process the dev command started leads its own session (and process group);
    workers and beat run at niceness 10, in every thread and as a session, the API and
    Redis at 0; the sessions of anvil and the vault emulator (stand-ins for services that
    run elsewhere in production) at the workers' 10."""
    roles: dict[str, list[int]] = {"api": [], "worker": [], "beat": [], "redis": [],
                                   "anvil": [], "emulator": []}
    for child in psutil.Process(dev_pid).children():
        assert os.getsid(child.pid) == child.pid, child.cmdline()
        assert os.getpgid(child.pid) == child.pid, child.cmdline()
        argv = child.cmdline()
        if "worker" in argv:
            roles["beat" if "--beat" in argv else "worker"].append(child.pid)
        elif "api" in argv:
            roles["api"].append(child.pid)
        elif "ops.keyvault_emulator" in argv:
            roles["emulator"].append(child.pid)
        elif any("redis-server" in arg for arg in argv):
            roles["redis"].append(child.pid)
        elif any("anvil" in arg for arg in argv):
            roles["anvil"].append(child.pid)
    assert all(len(pids) == 1 for pids in roles.values()), roles
    for role in ("api", "redis"):
        assert niceness(roles[role][0]) == {0}, role
        assert session_niceness(roles[role][0]) == 0, role
    for role in ("worker", "beat"):
        pid = roles[role][0]
        assert niceness(pid) == {10}, role
        assert session_niceness(pid) == 10, role
    for role in ("anvil", "emulator"):
        assert session_niceness(roles[role][0]) == 10, role
    assert len(psutil.Process(roles["worker"][0]).threads()) > 1  # the pool's threads too

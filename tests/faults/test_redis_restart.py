"""Scenario 2: Redis (AOF on) is stopped in the middle of a batch and started again with the
same arguments, port and directory; API, workers and beat reconnect and finish the batch."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from ops.processes import port_open, spawn, wait_until
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

DOWN_SECONDS = 4.0


def test_redis_restart_mid_batch(fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("redis-restart", workers=2, keys=3, concurrency=4)
    senders = fs.accounts
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()
    posted = fs.post(transfers(senders, 90))
    fs.wait_for(fs.progressed(25), 30, "25 transactions under way")
    before = fs.status_counts()

    old = fs.proc("redis")
    argv = [str(a) for a in old.extra["argv"]]  # type: ignore[attr-defined]
    port = int(str(old.extra["port"]))
    assert "--appendonly" in argv and argv[argv.index("--appendonly") + 1] == "yes"
    old.stop()
    time.sleep(DOWN_SECONDS)
    assert old.log_path is not None
    new = spawn("redis", argv, old.log_path)
    new.extra.update(old.extra)
    fs.dev.procs[fs.dev.procs.index(old)] = new
    wait_until(lambda: port_open(port), 20, "redis restart", new)
    # Answering only once the AOF is loaded (before that: "LOADING" errors).
    fs.wait_for(lambda: fs.redis.info("persistence").get("loading") == 0, 20,
                "redis to load its AOF", 0.05)
    kept = int(fs.redis.zcard("kvsigner:idx:all"))

    done = before["confirmed"] + before["failed"]
    in_flight = before["signed"] + before["submitted"] + before["mined"]
    finish(fs, "redis-restart", posted, start, t0,
           extra=f"redis down {DOWN_SECONDS:.0f}s with {done} done, {in_flight} in flight; "
                 f"{kept}/{len(posted.ids)} records present after restart")

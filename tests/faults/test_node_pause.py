"""Scenario 3: anvil stops answering for several seconds in the middle of a batch (SIGSTOP,
then SIGCONT, so the chain and its pool survive).

KVSIGNER_NODE_TIMEOUT is short, so workers time out on calls that anvil answers later: a
broadcast that timed out for the worker may still reach the node once it resumes (the node
proxy keeps waiting for anvil), which is exactly the ambiguous case kvsigner must handle.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable

import pytest

from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

PAUSE_SECONDS = 8.0


def test_node_paused_mid_batch(fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("node-pause", workers=2, keys=3, concurrency=4,
                     env={"KVSIGNER_NODE_TIMEOUT": "3"})
    assert fs.anvil is not None and fs.proxy is not None
    senders = fs.accounts
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()
    proxy = fs.proxy
    posted = fs.post(transfers(senders, 90))
    fs.wait_for(fs.progressed(20), 30, "20 transactions under way")
    # Stop anvil the moment a broadcast is on its way, so at least one broadcast is
    # ambiguous: the worker times out, and the node receives the transaction after resuming.
    sends = proxy.hold_when(lambda method, params: method == "eth_sendRawTransaction")
    sends.arrived.get(timeout=30)
    before = fs.status_counts()
    os.killpg(fs.anvil.pid, signal.SIGSTOP)
    try:
        proxy.stop_holding(sends)
        time.sleep(PAUSE_SECONDS)
        during = fs.status_counts()
    finally:
        os.killpg(fs.anvil.pid, signal.SIGCONT)
    under_way = sum(n for k, n in before.items() if k != "queued")

    def extra(_: object) -> str:
        answers = Counter("accepted" if s.accepted else s.answer for s in proxy.seen)
        return (f"anvil stopped {PAUSE_SECONDS:.0f}s with {under_way} under way, "
                f"{before['confirmed']} confirmed ({during['confirmed']} at resume); "
                f"{len(proxy.seen)} broadcasts reached the node: {dict(answers)}")

    finish(fs, "node-pause", posted, start, t0, extra=extra)

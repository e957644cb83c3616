"""A reconciler pass that overlaps transactions being mined must not hand their nonces out
again (found by the quota scenario; reproduced here deterministically).

The reconciler reads the sender's chain nonces first and the sender's live records after.
Transactions that are broadcast, mined and confirmed between those two reads are neither
live records any more nor counted by the (earlier) chain nonce, so their nonces look unused:
above everything held, ``next`` is rewound below them; below a held nonce, they are put in
the free set. Either way the same nonces are assigned a second time (the quota scenario
shows both). Here the node proxy makes the rewind certain: broadcasts are held until the
reconciler has read the pending count, and the reconciler's answer is held until those
transactions are confirmed (well within the nonce lock's expiry).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.invariants import wait_terminal
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]

RECONCILE_SECONDS = 10


def test_reconcile_during_mining_does_not_reassign_nonces(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("reconcile-rewind", workers=1, keys=2, concurrency=4,
                     env={"KVSIGNER_NONCE_RESYNC_SECONDS": "3600",
                          # Passes 10 s apart: the rewound state lives long enough for the
                          # next transactions to be assigned from it (a later pass repairs it).
                          "KVSIGNER_RECONCILE_SECONDS": str(RECONCILE_SECONDS)})
    proxy = fs.proxy
    assert proxy is not None
    sender = fs.accounts[0]
    start = {sender: fs.nonce(sender, "pending")}
    state_key = f"kvsigner:nonce:{fs.chain_id}:{sender}"
    lock_key = f"kvsigner:lock:nonce:{fs.chain_id}:{sender}"
    t0 = time.monotonic()

    def is_send(method: str, params: list[Any]) -> bool:
        return method == "eth_sendRawTransaction"

    def is_pending_count(method: str, params: list[Any]) -> bool:
        return (method == "eth_getTransactionCount" and len(params) > 1
                and params[1] == "pending")

    sends = proxy.hold_when(is_send)
    body = {"from": sender, "to": sender, "value": "1"}
    posted = fs.post([body] * 4)
    fs.wait_for(lambda: fs.status_counts()["signed"] == 4, 30, "4 signed, broadcasts held")
    # From here on only the reconciler asks for the pending count (the nonce state is fresh
    # for an hour): hold its answer, which says none of the 4 is on the node yet.
    counts = proxy.hold_when(is_pending_count, reply=True)
    held = counts.arrived.get(timeout=RECONCILE_SECONDS + 10)
    assert int(held.answer["result"], 16) == start[sender], held.answer
    assert fs.redis.exists(lock_key), "the reconciler should hold the nonce lock"
    proxy.stop_holding(sends)
    wait_terminal(fs, posted.ids, 20)
    lock_ttl = int(fs.redis.pttl(lock_key))
    proxy.stop_holding(counts)

    def pass_done() -> bool:
        return not fs.redis.exists(lock_key)

    fs.wait_for(pass_done, 5, "the reconcile pass to end", 0.02)
    rewound = int(fs.redis.hget(state_key, "next") or -1)
    later = fs.post([body] * 2)
    finish(fs, "reconcile-rewind", posted.merge(later), start, t0,
           extra=f"4 mined during one reconcile pass (lock ttl left {lock_ttl}ms); "
                 f"next nonce after the pass: {rewound} (chain: {fs.nonce(sender)})")

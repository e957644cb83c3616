"""Scenario 5: prices jump while transactions wait in the pool.

anvil stops mining, a batch is signed and broadcast, the next block's base fee is set far
above every transaction's maxFeePerGas and that (empty) block is mined, so nothing pending
can be included. With KVSIGNER_STUCK_SECONDS=3 the tracker re-signs the stuck transactions
with the same nonce and fees raised to the new market; then mining resumes and the
replacements are mined.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.invariants import Verdict
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

GWEI = 10**9


def test_stuck_transactions_are_bumped_after_a_price_jump(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("price-jump", workers=2, keys=3, concurrency=4,
                     env={"KVSIGNER_STUCK_SECONDS": "3"})
    senders = fs.accounts
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()
    fs.rpc("evm_setAutomine", False)
    fs.rpc("evm_setIntervalMining", 0)
    resumed = False
    try:
        posted = fs.post(transfers(senders, 45))
        n = len(posted.ids)
        fs.wait_for(lambda: fs.status_counts()["submitted"] >= n, 60,
                    f"all {n} transactions submitted while mining is off")
        top_fee = max(int(fs.get(i)["fees"]["maxFeePerGas"]) for i in posted.ids)
        jump = max(50 * GWEI, 10 * top_fee)
        fs.rpc("anvil_setNextBlockBaseFeePerGas", hex(jump))
        fs.rpc("evm_mine")
        block = fs.rpc("eth_getBlockByNumber", "latest", False)
        assert int(block["baseFeePerGas"], 16) == jump and not block["transactions"], block

        def bumped() -> int:
            return sum(1 for i in posted.ids if fs.get(i)["bumps"] > 0)

        fs.wait_for(lambda: bumped() >= n, 60, "every stuck transaction bumped", 1.0)
        bumped_before_resume = bumped()
        fs.rpc("evm_setAutomine", True)
        resumed = True
        for _ in range(3):
            fs.rpc("evm_mine")
    finally:
        if not resumed:
            fs.rpc("evm_setAutomine", True)

    def extra(v: Verdict) -> str:
        return (f"highest maxFeePerGas {top_fee / GWEI:.2f} gwei, base fee raised to "
                f"{jump / GWEI:.0f} gwei; {bumped_before_resume}/{n} bumped before mining "
                f"resumed; {v.counts['multi_hash']} records with >1 hash")

    verdict = finish(fs, "price-jump", posted, start, t0, extra=extra)
    requests_ = [r for r in verdict.records if r["kind"] == "request"]
    assert any(r["bumps"] > 0 and len(r["hashes"]) > 1 for r in requests_)
    assert all(r["status"] == "confirmed" for r in requests_)
    # The winning transaction paid at least the jumped base fee: a replacement won.
    for rec in requests_:
        assert int(rec["receipt"]["effectiveGasPrice"]) >= jump * 7**3 // 8**3, rec["id"]

"""Scenario 4: the vault answers 429 to 30% of sign calls, half of them without Retry-After
(the Azure SDK would not retry those on its own); every transaction still gets through."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def test_vault_throttles_thirty_percent_of_signs(fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("vault-throttling", workers=2, keys=3, concurrency=4)
    senders = fs.accounts
    start = {s: fs.nonce(s, "pending") for s in senders}
    fs.admin.configure(throttle_rate=0.3, retry_after_ratio=0.5)
    fs.admin.reset_stats()
    t0 = time.monotonic()
    posted = fs.post(transfers(senders, 90))
    verdict = finish(fs, "vault-throttling", posted, start, t0,
                     extra="emulator: throttle_rate=0.3, retry_after_ratio=0.5")
    stats = fs.admin.stats()
    assert stats["signs_throttled"] > 0, stats
    assert verdict.counts["failed"] == {}, verdict.counts["failed"]
    assert verdict.counts["status"].get("confirmed") == len(posted.ids)

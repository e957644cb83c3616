"""Scenario 6: one sender's vault key is disabled in the middle of a batch, then enabled.

While it is disabled its transactions fail with ``vault_key_disabled`` (or are refused at
POST with 409 ``vault_key_disabled`` once the API has seen the change: those were never
accepted). The nonces they held go back to the sender; after the key is enabled again the
sender's next transactions take them or the reconciler fills them with filler records, so
the sender's nonces continue without a gap and nothing waits behind one.

A signer that cached the key as disabled looks it up again (at most every few seconds)
before refusing, so once the key is enabled again its transactions are signed without
waiting for the next scheduled refresh (``test_transactions_after_reenabling_a_key_are_signed``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.invariants import Verdict, wait_terminal
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, Posted, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

REFRESH_SECONDS = 2.0
#: How long after a key is enabled again kvsigner may still refuse it (the default key-list
#: refresh is 300 s; a re-check of a cached "disabled" should take seconds, not minutes).
REENABLED_GRACE_SECONDS = 6.0
GAP_FILL_SECONDS = 4.0
RECONCILE_SECONDS = 3.0


def _post_until_accepted(fs: FaultStack, bodies: list[dict[str, Any]],
                         timeout: float = 20.0) -> Posted:
    """POST ``bodies``; retry the ones refused as ``vault_key_disabled`` (an API whose key
    list is not refreshed yet) until accepted. Every refusal stays counted."""
    total = Posted([], {}, 0)
    deadline = time.monotonic() + timeout
    while bodies:
        posted = fs.post(bodies)
        total = total.merge(posted)
        if not posted.refused or time.monotonic() > deadline:
            break
        assert set(posted.refused) == {"vault_key_disabled"}, posted.refused
        bodies = posted.refused_bodies
        time.sleep(REFRESH_SECONDS)
    return total


def test_disabled_key_fails_clearly_and_leaves_no_gap(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("key-disabled", workers=2, keys=3, concurrency=4,
                     env={"KVSIGNER_VAULT_REFRESH_SECONDS": str(REFRESH_SECONDS),
                          "KVSIGNER_GAP_FILL_SECONDS": str(GAP_FILL_SECONDS),
                          "KVSIGNER_RECONCILE_SECONDS": str(RECONCILE_SECONDS)})
    senders = fs.accounts
    victim = senders[0]
    key_name = fs.key_names()[victim]
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()

    posted = fs.post(transfers(senders, 90))
    fs.wait_for(fs.progressed(12), 30, "12 transactions under way")
    fs.admin.set_key_enabled(key_name, False)
    under_way = sum(n for k, n in fs.status_counts().items() if k != "queued")
    time.sleep(REFRESH_SECONDS + 1)
    # Once the API has refreshed its key list, new requests for the sender are refused.
    while_disabled = fs.post([{"from": victim, "to": senders[1], "value": "7"}] * 4)
    posted = posted.merge(while_disabled)
    first = wait_terminal(fs, posted.ids, 90)
    victim_failed = [r for r in first.values()
                     if r["from"] == victim and r["status"] == "failed"]
    # Let the reconciler see the handed-back nonces while the key is still disabled (it
    # rewinds or tries fillers, which cannot be signed yet).
    time.sleep(GAP_FILL_SECONDS + 2 * RECONCILE_SECONDS)

    fs.admin.set_key_enabled(key_name, True)
    time.sleep(REFRESH_SECONDS + 1)
    later = [b for b in transfers(senders, 30) if b["from"] == victim]
    later += transfers(senders[1:], 6)
    second = _post_until_accepted(fs, later)
    posted = posted.merge(second)
    stale: list[str] = []

    def extra(v: Verdict) -> str:
        return (f"key of {victim[:10]} disabled with {under_way} under way: "
                f"{len(victim_failed)} of its transactions failed, "
                f"{while_disabled.refused.get('vault_key_disabled', 0)} of 4 refused at POST; "
                f"after re-enabling {len(second.ids)} accepted, "
                f"{sum(second.refused.values())} POSTs refused and {len(stale)} failed; "
                f"fillers "
                f"{v.counts['filler_status']}")

    def classify(v: Verdict) -> str:
        by_id = {r["id"]: r for r in v.records}
        stale.extend(i for i in second.ids if by_id.get(i, {}).get("status") == "failed")
        return extra(v)

    verdict = finish(fs, "key-disabled", posted, start, t0, extra=classify)
    assert victim_failed or while_disabled.refused, "the disabled key made nothing fail"
    by_id = {r["id"]: r for r in verdict.records}
    for rec in verdict.records:
        if rec["status"] == "failed" and rec["kind"] == "request":
            assert rec["error"]["code"] == "vault_key_disabled", rec
            assert rec["from"] == victim, rec
    for tx_id in second.ids:  # the key is enabled again: every one is signed and mined
        assert by_id[tx_id]["status"] == "confirmed", by_id[tx_id]


def test_transactions_after_reenabling_a_key_are_signed(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("key-reenabled", workers=1, keys=2, concurrency=2)
    victim, other = fs.accounts[0], fs.accounts[1]
    key_name = fs.key_names()[victim]
    start = {s: fs.nonce(s, "pending") for s in fs.accounts}
    t0 = time.monotonic()
    body = {"from": victim, "to": other, "value": "5"}
    warm = fs.post([body] * 2)
    wait_terminal(fs, warm.ids, 30)
    fs.admin.set_key_enabled(key_name, False)
    # The API's key list is still the one from start-up, so these are accepted; the vault
    # refuses them (403 KeyDisabled) and the worker reloads its key list (now: disabled).
    refused = Posted([], {}, 0)
    for _ in range(2):
        one = fs.post([body])
        wait_terminal(fs, one.ids, 30)
        refused = refused.merge(one)
    fs.admin.set_key_enabled(key_name, True)
    time.sleep(REENABLED_GRACE_SECONDS)
    after = fs.post([body] * 3)
    posted = warm.merge(refused).merge(after)
    records = wait_terminal(fs, after.ids, 30)
    statuses = sorted(r["status"] for r in records.values())
    errors = {(r["error"] or {}).get("message", "") for r in records.values() if r["error"]}
    finish(fs, "key-reenabled", posted, start, t0,
           extra=f"after re-enabling the key: {statuses} {sorted(errors)[:1]}")
    assert statuses == ["confirmed"] * 3, (statuses, errors)

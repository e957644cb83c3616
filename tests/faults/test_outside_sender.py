"""Scenario 7: another process signs with one of kvsigner's vault keys (through
``worker.signing``, with the node's pending nonce) and sends straight to anvil in the middle
of a batch, at a nonce kvsigner has already assigned (its broadcasts are held at the node
proxy meanwhile). kvsigner's records whose nonce was taken meet "nonce too low", get a new
nonce, and the sender ends with nothing pending and no hole."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.invariants import Verdict
from tests.faults.node_proxy import decode_raw
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers
from worker.settings import Settings
from worker.signing.factory import build_signer
from worker.signing.transactions import sign_transaction

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

OUTSIDE_TXS = 3


def _send_outside(fs: FaultStack, sender: str, count: int) -> list[str]:
    """Sign ``count`` self-transfers with the vault key of ``sender`` at the node's pending
    nonce and send them directly to anvil; returns their hashes."""
    signer = build_signer(Settings.from_env(fs.dev.env))
    hashes: list[str] = []
    try:
        while len(hashes) < count:
            base = int(fs.rpc("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
            tip = 10**9
            tx = {"from": sender, "to": sender, "value": 1, "gas": 21000, "type": 2,
                  "nonce": fs.nonce(sender, "pending"), "chainId": fs.chain_id,
                  "maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
            signed = sign_transaction(signer, tx)
            try:
                hashes.append(str(fs.rpc("eth_sendRawTransaction", signed.raw_hex)))
            except RuntimeError as exc:  # kvsigner took that nonce a moment earlier
                if "nonce" not in str(exc).lower():
                    raise
    finally:
        signer.close()
    return hashes


def test_transactions_sent_behind_kvsigners_back(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("outside-sender", workers=2, keys=3, concurrency=4)
    senders = fs.accounts
    victim = senders[0]
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()
    posted = fs.post(transfers(senders, 90))
    fs.wait_for(fs.progressed(20), 30, "20 transactions under way")
    # Hold the victim's broadcasts until one arrives: the node's pending nonce is then one
    # kvsigner has already assigned, so the outside transactions surely take a nonce of ours
    # (without the hold, a reconciler pass may raise the sender's next nonce first).
    proxy = fs.proxy
    assert proxy is not None
    held = proxy.hold_when(lambda method, params: method == "eth_sendRawTransaction"
                           and bool(params) and decode_raw(params[0])[1].lower()
                           == victim.lower())
    held.arrived.get(timeout=30)
    outside = _send_outside(fs, victim, OUTSIDE_TXS)
    proxy.stop_holding(held)
    taken = sorted(int(fs.rpc("eth_getTransactionByHash", h)["nonce"], 16) for h in outside)

    def extra(v: Verdict) -> str:
        return (f"{OUTSIDE_TXS} outside transactions from {victim[:10]} took nonces {taken}; "
                f"{v.counts['requeued']} records got a new nonce")

    verdict = finish(fs, "outside-sender", posted, start, t0, outside=outside, extra=extra)
    assert verdict.counts["status"].get("confirmed") == len(posted.ids)
    assert verdict.counts["requeued"] >= 1, "no record met the taken nonce"

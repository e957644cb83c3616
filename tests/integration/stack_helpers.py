"""Helpers for tests that drive a running stack over HTTP, as a client would."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

TERMINAL = {"confirmed", "reverted", "failed", "cancelled"}

# Contract-creation code that reverts with Error("nope"): CODECOPY the 100-byte ABI payload
# that follows the 12-byte prefix into memory, then REVERT with it.
REVERT_NOPE_INITCODE = (
    "0x" + "6064" + "600c" + "6000" + "39" + "6064" + "6000" + "fd"
    + "08c379a0"
    + "0000000000000000000000000000000000000000000000000000000000000020"
    + "0000000000000000000000000000000000000000000000000000000000000004"
    + "6e6f706500000000000000000000000000000000000000000000000000000000"
)


def rpc(node_url: str, method: str, *params: Any) -> Any:
    body = requests.post(node_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                         "params": list(params)}, timeout=10).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


def chain_nonce(node_url: str, address: str, tag: str = "latest") -> int:
    return int(rpc(node_url, "eth_getTransactionCount", address, tag), 16)


def post_tx(api: str, body: dict[str, Any], key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(f"{api}/transactions", json=body, headers=headers, timeout=30)


def post_many(api: str, bodies: list[dict[str, Any]], threads: int = 16) -> list[str]:
    """POST every body concurrently; every one must be accepted (202). Returns ids."""
    def one(body: dict[str, Any]) -> str:
        resp = post_tx(api, body)
        assert resp.status_code == 202, resp.text
        return str(resp.json()["id"])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, bodies))


def get_tx(api: str, tx_id: str) -> dict[str, Any]:
    resp = requests.get(f"{api}/transactions/{tx_id}", timeout=10)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def wait_terminal(api: str, ids: Iterable[str], timeout: float = 180.0,
                  statuses: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Poll until every id reaches one of ``statuses`` (default: any terminal status)."""
    wanted = statuses or TERMINAL
    pending = set(ids)
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for tx_id in list(pending):
            rec = get_tx(api, tx_id)
            if rec["status"] in wanted:
                done[tx_id] = rec
                pending.discard(tx_id)
        if pending:
            time.sleep(0.5)
    if pending:
        sample = {i: get_tx(api, i)["status"] for i in list(pending)[:10]}
        raise AssertionError(f"{len(pending)} transactions not finished: {sample}")
    return done


def assert_contiguous(records: Iterable[dict[str, Any]], start: dict[str, int],
                      node_url: str) -> None:
    """Each sender's nonces are exactly start..start+n-1 with no duplicates, and the chain
    agrees: its nonce for the sender advanced by exactly n, and every record's winning hash
    is a mined transaction from that sender with that nonce."""
    by_sender: dict[str, list[int]] = defaultdict(list)
    hashes = set()
    for rec in records:
        assert rec["status"] == "confirmed", rec
        by_sender[rec["from"]].append(rec["nonce"])
        mined = rpc(node_url, "eth_getTransactionByHash", rec["receipt"]["transactionHash"])
        assert mined["from"].lower() == rec["from"].lower()
        assert int(mined["nonce"], 16) == rec["nonce"]
        hashes.add(rec["receipt"]["transactionHash"])
    assert len(hashes) == sum(len(v) for v in by_sender.values()), "a hash was reused"
    for sender, nonces in by_sender.items():
        first = start[sender]
        assert sorted(nonces) == list(range(first, first + len(nonces))), (sender, nonces)
        assert chain_nonce(node_url, sender) == first + len(nonces)

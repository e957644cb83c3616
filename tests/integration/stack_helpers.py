"""Helpers for tests that drive a running stack over HTTP, as a client would.

The stack's API wants an API key. A stack fixture calls ``use_stack(info)`` once; from then
on every request this process sends to that API through ``requests`` (these helpers, plain
``requests.get/post`` calls, web3's ``HTTPProvider``) carries ``Authorization: Bearer
<info['apiKey']>``, unless the request sets its own ``Authorization`` header. WebSocket
clients do not use ``requests``: pass them ``auth_headers(url)``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

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


#: API origin (scheme://host:port) -> the API key its requests carry; see ``use_stack``.
API_KEYS: dict[str, str] = {}
_original_prepare = requests.Session.prepare_request


def _origin(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def auth_headers(url: str) -> dict[str, str]:
    """``Authorization`` for ``url`` (http or ws) when its stack was registered, else {}."""
    key = API_KEYS.get(_origin(url))
    return {"Authorization": f"Bearer {key}"} if key else {}


def _prepare_with_key(self: requests.Session, request: requests.Request) -> Any:
    prepared = _original_prepare(self, request)
    if "Authorization" not in prepared.headers and prepared.url:
        prepared.headers.update(auth_headers(prepared.url))
    return prepared


def use_stack(info: Mapping[str, Any]) -> None:
    """Send ``info['apiKey']`` with every ``requests`` request to ``info['api']``."""
    API_KEYS[_origin(str(info["api"]))] = str(info["apiKey"])
    requests.Session.prepare_request = _prepare_with_key  # type: ignore[method-assign]


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

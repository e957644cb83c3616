"""Batched JSON-RPC look-ups, so checking a thousand transactions costs a handful of requests.

Batches go through ``NodeClient.raw`` (the node client's own session). A batch entry that
carries an error is treated as "not found"; a transport failure raises ``NodeError``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from worker.chain.node import NodeClient

BATCH = 200


def batch_call(node: NodeClient, method: str, params: Sequence[list[Any]]) -> list[Any]:
    """``method`` once per entry of ``params``; the results in the same order (``None``
    where the node answered with an error or null)."""
    results: list[Any] = []
    for start in range(0, len(params), BATCH):
        chunk = params[start:start + BATCH]
        body = node.raw([{"jsonrpc": "2.0", "id": i, "method": method, "params": p}
                         for i, p in enumerate(chunk)])
        by_id = {item.get("id"): item.get("result") for item in body} \
            if isinstance(body, list) else {}
        results.extend(by_id.get(i) for i in range(len(chunk)))
    return results


def receipts(node: NodeClient, hashes: Sequence[str], timeout: float,
             interval: float = 0.2) -> dict[str, dict[str, Any]]:
    """Wait until every hash has a receipt or ``timeout`` seconds pass; returns the
    receipts found (a hash without one is missing from the result)."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while True:
        missing = [h for h in hashes if h not in found]
        if missing:
            for tx_hash, receipt in zip(missing, batch_call(
                    node, "eth_getTransactionReceipt", [[h] for h in missing]), strict=True):
                if receipt is not None and receipt.get("blockNumber") is not None:
                    found[tx_hash] = dict(receipt)
        if len(found) == len(set(hashes)) or time.monotonic() >= deadline:
            return found
        time.sleep(interval)


def transactions(node: NodeClient, hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``eth_getTransactionByHash`` of each hash (unknown hashes are left out)."""
    return {h: dict(tx) for h, tx in zip(
        hashes, batch_call(node, "eth_getTransactionByHash", [[h] for h in hashes]),
        strict=True) if tx is not None}


def nonces(node: NodeClient, addresses: Sequence[str], tag: str = "latest") -> dict[str, int]:
    """Each address's transaction count at ``tag``."""
    counts = batch_call(node, "eth_getTransactionCount", [[a, tag] for a in addresses])
    return {a: int(c, 16) for a, c in zip(addresses, counts, strict=True)}

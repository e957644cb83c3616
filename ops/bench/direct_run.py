"""The baseline: one process that signs through the vault and sends raw transactions itself.

Per transaction it does only what cannot be avoided: ``sign_transaction`` with the very signer
the workers use (``build_signer``: same SDK, same retries, one vault call per signature) and
one ``eth_sendRawTransaction``. Nonces are counted locally from the node's pending count and
fees are planned once (anvil's base fee only falls while blocks stay nearly empty), so the
loop measures the vault and node round trips and nothing else. After the last send it waits
for every receipt. The pipeline's rate limiter is not applied: the baseline is one process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ops.bench.pipeline_run import TRANSFER_GAS
from ops.bench.rpc import receipts
from worker.chain.fees import plan_fees
from worker.chain.node import NodeClient
from worker.domain.errors import KvsignerError
from worker.domain.records import TxRequest
from worker.settings import Settings
from worker.signing.factory import build_signer
from worker.signing.transactions import sign_transaction


@dataclass
class DirectResult:
    """``seconds`` runs from the first signature to the last receipt; ``sign_ms`` and
    ``send_ms`` hold each call's duration; ``failed`` counts transactions that raised or
    never got a successful receipt."""

    txs: int
    seconds: float
    failed: int
    sign_ms: list[float] = field(default_factory=list)
    send_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def tps(self) -> float:
        return (self.txs - self.failed) / self.seconds if self.seconds > 0 else 0.0


def run_direct(env: Mapping[str, str], node_url: str, senders: Sequence[str], txs: int,
               sink: str, timeout: float) -> DirectResult:
    """Send ``txs`` value transfers to ``sink`` round-robin from ``senders``.

    Each sender's key is used once before the clock starts (token, TLS and the SDK's auth
    challenge are per-process set-up costs, not per-transaction ones). Raises
    ``KvsignerError`` only when that set-up fails; per-transaction errors are counted.
    """
    settings = Settings.from_env(env, node_url=node_url)
    signer = build_signer(settings)
    node = NodeClient(node_url, settings.node_timeout)
    try:
        chain_id = node.chain_id()
        plan = plan_fees(node, TxRequest(sender=senders[0], to=sink, value=1),
                         settings.fee_base_multiplier)
        nonces = {s: node.pending_nonce(s) for s in senders}

        def tx(sender: str, nonce: int) -> dict[str, Any]:
            return {"from": sender, "to": sink, "value": 1, "gas": TRANSFER_GAS,
                    "nonce": nonce, "chainId": chain_id, "type": 2,
                    "maxFeePerGas": plan.max_fee_per_gas,
                    "maxPriorityFeePerGas": plan.max_priority_fee_per_gas}

        for sender in senders:
            sign_transaction(signer, tx(sender, nonces[sender]))  # warm-up, never sent
        result = DirectResult(txs=txs, seconds=0.0, failed=0)
        hashes: list[str] = []
        start = time.perf_counter()
        for i in range(txs):
            sender = senders[i % len(senders)]
            try:
                t0 = time.perf_counter()
                signed = sign_transaction(signer, tx(sender, nonces[sender]))
                t1 = time.perf_counter()
                node.send_raw_transaction(signed.raw_hex)
                t2 = time.perf_counter()
            except KvsignerError as exc:
                result.failed += 1
                result.errors.append(exc.code)
                continue
            nonces[sender] += 1
            hashes.append("0x" + bytes(signed.hash).hex())
            result.sign_ms.append((t1 - t0) * 1000.0)
            result.send_ms.append((t2 - t1) * 1000.0)
        found = receipts(node, hashes, timeout)
        result.seconds = time.perf_counter() - start
        result.failed += sum(1 for h in hashes if _status(found.get(h)) != 1)
        return result
    finally:
        signer.close()


def _status(receipt: dict[str, Any] | None) -> int | None:
    if receipt is None or receipt.get("status") is None:
        return None
    return int(receipt["status"], 16)

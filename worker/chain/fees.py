"""Gas and fee policy: how much gas, which transaction type and what price.

Plain functions over a ``NodeClient``. Gas is estimated before a nonce is taken, so a call
that reverts fails its transaction without burning a nonce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.chain.node import NodeClient
from worker.domain.errors import NodeError
from worker.domain.records import TxRequest

# Replacement rules of geth-like pools: both EIP-1559 fields must rise by at least 10%.
MIN_BUMP_PERCENT = 10


@dataclass(frozen=True)
class FeePlan:
    """The transaction type and its fee fields (legacy/2930: ``gas_price``; 1559: the two
    ``max_*`` fields)."""

    tx_type: int
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None


def estimate_gas(node: NodeClient, req: TxRequest, margin_percent: int) -> int:
    """``req.gas`` if given, else the node's estimate plus ``margin_percent``.

    Raises ``NodeError`` (``execution_reverted`` with the revert reason, ``insufficient_funds``,
    or ``node_unavailable``)."""
    if req.gas is not None:
        return req.gas
    call: dict[str, Any] = {"from": req.sender, "value": hex(req.value), "data": req.data}
    if req.to is not None:
        call["to"] = req.to
    if req.access_list is not None:
        call["accessList"] = req.access_list
    estimate = node.estimate_gas(call)
    if estimate <= 21000 and req.data == "0x":
        return estimate  # plain transfers cost exactly 21000; a margin only wastes balance
    return estimate * (100 + margin_percent) // 100


def plan_fees(node: NodeClient, req: TxRequest, base_multiplier: float) -> FeePlan:
    """Fees for a new transaction: the caller's when given, else EIP-1559 on chains with a
    base fee (tip from the node; max fee = base fee x multiplier + tip, so it survives
    several full blocks) and the node's gas price otherwise or when a legacy type is asked."""
    if req.gas_price is not None:
        return FeePlan(tx_type=req.type if req.type is not None else
                       (1 if req.access_list is not None else 0), gas_price=req.gas_price)
    if req.max_fee_per_gas is not None and req.max_priority_fee_per_gas is not None:
        return FeePlan(2, max_fee_per_gas=req.max_fee_per_gas,
                       max_priority_fee_per_gas=req.max_priority_fee_per_gas)
    if req.type in (0, 1):
        return FeePlan(req.type, gas_price=node.gas_price())
    base = node.base_fee()
    if base is None:
        if req.type == 2:
            raise NodeError("node_rejected", "the chain has no base fee, so EIP-1559 (type 2) "
                            "transactions are not supported; use type 0",
                            node_class="UNSUPPORTED_TYPE")
        return FeePlan(1 if req.access_list is not None else 0, gas_price=node.gas_price())
    tip = node.max_priority_fee()
    return FeePlan(2, max_fee_per_gas=int(base * base_multiplier) + tip,
                   max_priority_fee_per_gas=tip)


def bumped(plan: FeePlan, percent: int, floor: FeePlan | None = None) -> FeePlan:
    """``plan`` with every fee field raised by ``percent`` (at least 10%, rounded up), and
    not below ``floor`` (e.g. the current market price)."""
    pct = max(percent, MIN_BUMP_PERCENT)

    def up(value: int | None, minimum: int | None) -> int | None:
        if value is None:
            return None
        raised = value + max(1, -(-value * pct // 100))
        return max(raised, minimum or 0)

    f = floor or FeePlan(plan.tx_type)
    return FeePlan(plan.tx_type, up(plan.gas_price, f.gas_price),
                   up(plan.max_fee_per_gas, f.max_fee_per_gas),
                   up(plan.max_priority_fee_per_gas, f.max_priority_fee_per_gas))

"""The fields of the transaction a record stands for, and its fee plan.

One place decides what exactly is signed for a record: the request as given, or for a
cancellation a 0-value self-transfer with the same nonce.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from worker.chain.fees import FeePlan
from worker.domain.records import TxRecord, TxRequest

CANCEL_GAS = 21000


def build_tx(rec: TxRecord, chain_id: int) -> dict[str, Any]:
    """The eth-account transaction dict for ``rec`` (nonce, gas and fees must be set)."""
    req = rec.request
    if rec.cancel_requested:
        tx: dict[str, Any] = {"from": req.sender, "to": req.sender, "value": 0, "data": "0x",
                              "gas": CANCEL_GAS}
        access_list: list[dict[str, Any]] = []
    else:
        tx = {"from": req.sender, "value": req.value, "data": req.data, "gas": rec.gas}
        if req.to is not None:
            tx["to"] = req.to
        access_list = req.access_list or []
    tx.update(nonce=rec.nonce, chainId=chain_id)
    if rec.tx_type == 2:
        tx.update(type=2, maxFeePerGas=rec.max_fee_per_gas,
                  maxPriorityFeePerGas=rec.max_priority_fee_per_gas, accessList=access_list)
    elif rec.tx_type == 1:
        tx.update(type=1, gasPrice=rec.gas_price, accessList=access_list)
    else:
        tx["gasPrice"] = rec.gas_price
    return tx


def current_plan(rec: TxRecord) -> FeePlan:
    return FeePlan(rec.tx_type or 0, rec.gas_price, rec.max_fee_per_gas,
                   rec.max_priority_fee_per_gas)


def apply_plan(rec: TxRecord, plan: FeePlan) -> None:
    rec.tx_type = plan.tx_type
    rec.gas_price = plan.gas_price
    rec.max_fee_per_gas = plan.max_fee_per_gas
    rec.max_priority_fee_per_gas = plan.max_priority_fee_per_gas


def market_request(rec: TxRecord) -> TxRequest:
    """The record's request with its fee fields cleared: asks for the market price of the
    record's transaction type."""
    return replace(rec.request, gas_price=None, max_fee_per_gas=None,
                   max_priority_fee_per_gas=None, type=rec.tx_type)

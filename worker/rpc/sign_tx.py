"""``eth_signTransaction``: a vault-signed raw transaction that is neither stored nor sent.

The request is validated like ``eth_sendTransaction`` (same fields, sender, chain id and fee
rules) except that ``nonce`` may be given. Missing gas and fees are filled exactly as the
pipeline fills them (``estimate_gas``/``plan_fees``), and a missing nonce is the node's
pending transaction count. That nonce is NOT reserved: kvsigner's own queue may use it for
the next ``eth_sendTransaction`` of the same account, so whoever broadcasts this transaction
must coordinate with it (or pass an explicit nonce).

The answer is geth's ``{"raw": ..., "tx": ...}`` object, which is what web3.py's
``w3.eth.sign_transaction`` formats (it rejects a bare hex string).
"""

from __future__ import annotations

from typing import Any

from worker.chain.fees import FeePlan, estimate_gas, plan_fees
from worker.domain.records import TxRequest
from worker.domain.requests import parse_transaction_request, parse_uint
from worker.services import Services
from worker.signing.transactions import SignedTransaction, sign_transaction


def sign_transaction_request(services: Services, tx: dict[str, Any]) -> dict[str, Any]:
    """Sign ``tx`` without broadcasting it. Raises ``ValidationError`` for a bad request,
    ``NodeError`` (e.g. ``execution_reverted``) from gas estimation, and the vault's errors."""
    body = dict(tx)
    raw_nonce = body.pop("nonce", None)
    chain_id = services.chain_id()
    req, _, _ = parse_transaction_request(body, is_account=services.is_account,
                                          chain_id=chain_id, allow_extra=False)
    settings = services.settings
    nonce = (parse_uint(raw_nonce, "nonce", 2**64 - 1) if raw_nonce is not None
             else services.node.pending_nonce(req.sender))
    gas = estimate_gas(services.node, req, settings.gas_margin_percent)
    plan = plan_fees(services.node, req, settings.fee_base_multiplier)
    fields = transaction_fields(req, plan, gas, nonce, chain_id)
    signed = sign_transaction(services.signer, fields)
    return {"raw": signed.raw_hex, "tx": geth_view(fields, signed)}


def transaction_fields(req: TxRequest, plan: FeePlan, gas: int, nonce: int,
                       chain_id: int) -> dict[str, Any]:
    """The eth-account transaction dict for ``sign_transaction``."""
    fields: dict[str, Any] = {"from": req.sender, "value": req.value, "data": req.data,
                              "gas": gas, "nonce": nonce, "chainId": chain_id}
    if req.to is not None:
        fields["to"] = req.to
    if plan.tx_type == 2:
        fields.update(type=2, maxFeePerGas=plan.max_fee_per_gas,
                      maxPriorityFeePerGas=plan.max_priority_fee_per_gas,
                      accessList=req.access_list or [])
    elif plan.tx_type == 1:
        fields.update(type=1, gasPrice=plan.gas_price, accessList=req.access_list or [])
    else:
        fields["gasPrice"] = plan.gas_price
    return fields


def geth_view(fields: dict[str, Any], signed: SignedTransaction) -> dict[str, Any]:
    """The signed transaction in the node's JSON form (hex quantities, ``input``)."""
    view: dict[str, Any] = {
        "type": hex(signed.tx_type), "chainId": hex(fields["chainId"]),
        "nonce": hex(signed.nonce), "to": fields.get("to"), "gas": hex(fields["gas"]),
        "value": hex(fields["value"]), "input": fields["data"],
    }
    for key in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas"):
        if fields.get(key) is not None:
            view[key] = hex(fields[key])
    if signed.tx_type != 0:
        view["accessList"] = fields.get("accessList", [])
        view["yParity"] = hex(signed.v)
    view.update(v=hex(signed.v), r=hex(signed.r), s=hex(signed.s),
                hash="0x" + bytes(signed.hash).hex())
    return view

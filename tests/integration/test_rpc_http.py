"""JSON-RPC over HTTP against a real stack (Redis, anvil, the Key Vault emulator, the API and
two Celery workers), driven by an unmodified web3.py ``HTTPProvider`` as a dapp would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from ops.devstack import DevStack
from tests.integration.stack_helpers import (
    REVERT_NOPE_INITCODE,
    chain_nonce,
    get_tx,
    rpc,
    use_stack,
)

pytestmark = pytest.mark.integration

STRANGER = "0x" + "5a" * 20

def running_stack(data: Path, api_port: int) -> Iterator[dict[str, Any]]:
    """A 2-worker, 2-key stack; yields its info (``rpc``/``ws`` serve JSON-RPC)."""
    dev = DevStack(data, api_port=api_port, workers=2, keys=2, worker_concurrency=4,
                   extra_env={"KVSIGNER_RECEIPT_POLL_SECONDS": "0.5"})
    use_stack(dev.start())
    try:
        yield dict(dev.info)
    finally:
        dev.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from running_stack(tmp_path_factory.mktemp("rpc-http"), 18180)


@pytest.fixture(scope="module")
def w3(stack: dict[str, Any]) -> Web3:
    return Web3(HTTPProvider(stack["rpc"]))


def call(stack: dict[str, Any], body: Any) -> Any:
    resp = requests.post(stack["rpc"], json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_accounts_are_the_vault_accounts(w3: Web3, stack: dict[str, Any]) -> None:
    assert w3.eth.accounts == stack["accounts"]
    assert w3.provider.make_request("personal_listAccounts", [])["result"] == stack["accounts"]


def test_a_sent_transaction_is_mined_from_the_vault_and_listed(w3: Web3,
                                                               stack: dict[str, Any]) -> None:
    sender, to = stack["accounts"]
    tx_hash = w3.eth.send_transaction({"from": sender, "to": to, "value": 4321})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.2)
    assert receipt["status"] == 1 and receipt["from"] == sender and receipt["to"] == to
    listed = requests.get(f"{stack['api']}/transactions", params={"from": sender},
                          timeout=10).json()["transactions"]
    matching = [r for r in listed if r["hash"] == Web3.to_hex(tx_hash)]
    assert len(matching) == 1
    rec = get_tx(stack["api"], matching[0]["id"])
    assert rec["status"] in ("submitted", "mined", "confirmed")
    assert rec["request"]["value"] == "4321" and rec["from"] == sender


def test_message_signatures_recover_to_the_account(w3: Web3, stack: dict[str, Any]) -> None:
    account = stack["accounts"][1]
    signed = w3.eth.sign(account, text="kvsigner says hi")
    assert Account.recover_message(encode_defunct(text="kvsigner says hi"),
                                   signature=signed) == account
    personal = w3.provider.make_request("personal_sign", ["0x" + b"\x00\xffraw".hex(),
                                                          account])["result"]
    assert Account.recover_message(encode_defunct(b"\x00\xffraw"),
                                   signature=personal) == account
    typed = {
        "types": {"EIP712Domain": [{"name": "name", "type": "string"},
                                   {"name": "chainId", "type": "uint256"}],
                  "Order": [{"name": "owner", "type": "address"},
                            {"name": "amounts", "type": "uint256[]"}]},
        "primaryType": "Order", "domain": {"name": "kvsigner", "chainId": 31337},
        "message": {"owner": account, "amounts": [1, 2]},
    }
    v4 = w3.provider.make_request("eth_signTypedData_v4", [account, typed])["result"]
    assert int(v4[-2:], 16) in (27, 28)
    assert Account.recover_message(encode_typed_data(full_message=typed),
                                   signature=v4) == account
    via_web3 = w3.eth.sign_typed_data(account, typed)  # web3 names it eth_signTypedData
    assert Account.recover_message(encode_typed_data(full_message=typed),
                                   signature=via_web3) == account


def test_sign_transaction_signs_without_sending(w3: Web3, stack: dict[str, Any]) -> None:
    sender, to = stack["accounts"]
    before = chain_nonce(stack["nodeUrl"], sender, "pending")
    signed = w3.eth.sign_transaction({"from": sender, "to": to, "value": 7})
    raw = bytes(signed["raw"])
    assert Account.recover_transaction(raw) == sender
    assert signed["tx"]["hash"] == keccak(raw) and signed["tx"]["nonce"] == before
    assert chain_nonce(stack["nodeUrl"], sender, "pending") == before


def test_reads_are_proxied_to_the_node(w3: Web3, stack: dict[str, Any]) -> None:
    account = stack["accounts"][0]
    assert w3.eth.get_balance(account) == int(rpc(stack["nodeUrl"], "eth_getBalance",
                                                  account, "latest"), 16)
    assert abs(w3.eth.block_number - int(rpc(stack["nodeUrl"], "eth_blockNumber"), 16)) <= 1
    assert w3.eth.chain_id == 31337


def test_an_unknown_sender_is_refused_clearly(w3: Web3, stack: dict[str, Any]) -> None:
    with pytest.raises(Web3RPCError, match="unknown account"):
        w3.eth.send_transaction({"from": Web3.to_checksum_address(STRANGER),
                                 "to": stack["accounts"][0], "value": 1})
    out = call(stack, {"jsonrpc": "2.0", "id": 3, "method": "eth_sendTransaction",
                       "params": [{"from": STRANGER, "to": stack["accounts"][0]}]})
    assert out["id"] == 3 and out["error"]["code"] == -32000
    assert out["error"]["data"]["code"] == "unknown_account"


@pytest.mark.parametrize(("tx", "code"), [
    ({"to": "0x1234"}, "invalid_address"),
    ({"value": "-1"}, "invalid_field"),
    ({"nonce": "0x0"}, "invalid_field"),
    ({"chainId": "0x1"}, "wrong_chain"),
    ({"gasPrice": "0x1", "maxFeePerGas": "0x2", "maxPriorityFeePerGas": "0x1"}, "fee_conflict"),
])
def test_invalid_params_are_32602(stack: dict[str, Any], tx: dict[str, Any],
                                  code: str) -> None:
    body = {"from": stack["accounts"][0], "to": stack["accounts"][1], **tx}
    out = call(stack, {"jsonrpc": "2.0", "id": "x", "method": "eth_sendTransaction",
                       "params": [body]})
    assert out["error"]["code"] == -32602 and out["error"]["data"]["code"] == code, out


def test_a_reverting_call_is_an_error_naming_the_reason(w3: Web3,
                                                        stack: dict[str, Any]) -> None:
    sender = stack["accounts"][0]
    # web3.py's default middleware estimates gas before eth_sendTransaction; the estimate is
    # proxied to the node, whose revert web3 raises as ContractLogicError.
    with pytest.raises(ContractLogicError, match="nope"):
        w3.eth.send_transaction({"from": sender, "data": REVERT_NOPE_INITCODE})
    # Without a gas limit kvsigner estimates itself: the record fails, no nonce is used.
    before = chain_nonce(stack["nodeUrl"], sender, "pending")
    out = call(stack, {"jsonrpc": "2.0", "id": 9, "method": "eth_sendTransaction",
                       "params": [{"from": sender, "data": REVERT_NOPE_INITCODE}]})
    error = out["error"]
    assert error["code"] == -32000 and "nope" in error["message"]
    assert error["data"]["code"] == "execution_reverted"
    assert get_tx(stack["api"], error["data"]["id"])["status"] == "failed"
    assert chain_nonce(stack["nodeUrl"], sender, "pending") == before


def test_a_batch_mixes_local_and_node_methods_in_order(stack: dict[str, Any]) -> None:
    out = call(stack, [{"jsonrpc": "2.0", "id": "b", "method": "eth_blockNumber"},
                       {"jsonrpc": "2.0", "id": "a", "method": "eth_accounts"},
                       {"jsonrpc": "2.0", "id": "c", "method": "eth_nope_not_a_method"}])
    assert [o["id"] for o in out] == ["b", "a", "c"]
    assert int(out[0]["result"], 16) >= 0 and out[1]["result"] == stack["accounts"]
    assert "error" in out[2]  # the node's own answer for a method it does not have


def test_bodies_that_are_not_json_rpc(stack: dict[str, Any]) -> None:
    resp = requests.post(stack["rpc"], data="{", headers={"Content-Type": "application/json"},
                         timeout=10)
    assert resp.status_code == 200 and resp.json()["error"]["code"] == -32700
    resp = requests.post(stack["rpc"], data="{}", headers={"Content-Type": "text/plain"},
                         timeout=10)
    assert resp.status_code == 415
    out = call(stack, {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                       "params": ["newHeads"]})
    assert out["error"]["code"] == -32601 and "/ws" in out["error"]["message"]

"""JSON-RPC over WebSocket against a real stack, driven by web3.py's own ``WebSocketProvider``:
local methods, proxied reads, and ``eth_subscribe`` relayed to anvil's WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import AsyncWeb3, WebSocketProvider
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.integration.stack_helpers import auth_headers, rpc
from tests.integration.test_rpc_http import running_stack
from worker.auth.keys import ApiKeyStore

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from running_stack(tmp_path_factory.mktemp("rpc-ws"), 18280)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def test_web3_websocket_client_signs_sends_and_reads(stack: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with AsyncWeb3(WebSocketProvider(stack["ws"], websocket_kwargs={
            "additional_headers": auth_headers(stack["ws"])})) as w3:
            accounts = await w3.eth.accounts
            assert accounts == stack["accounts"]
            assert await w3.eth.chain_id == 31337
            balance = await w3.eth.get_balance(accounts[0])
            assert balance == int(rpc(stack["nodeUrl"], "eth_getBalance", accounts[0],
                                      "latest"), 16)
            signature = await w3.eth.sign(accounts[1], text="over a socket")
            assert Account.recover_message(encode_defunct(text="over a socket"),
                                           signature=signature) == accounts[1]
            tx_hash = await w3.eth.send_transaction({"from": accounts[1], "to": accounts[0],
                                                     "value": 99})
            receipt = await w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60,
                                                                poll_latency=0.2)
            assert receipt["status"] == 1 and receipt["from"] == accounts[1]

    run(scenario())


def test_new_heads_are_relayed_from_the_node(stack: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with AsyncWeb3(WebSocketProvider(stack["ws"], websocket_kwargs={
            "additional_headers": auth_headers(stack["ws"])})) as w3:
            before = await w3.eth.block_number
            sub_id = await w3.eth.subscribe("newHeads")
            rpc(stack["nodeUrl"], "evm_mine")
            async for message in w3.socket.process_subscriptions():
                assert message["subscription"] == sub_id
                assert message["result"]["number"] > before
                break
            assert await w3.eth.unsubscribe(sub_id) is True

    run(scenario())


def raw_call(ws: Any, body: Any) -> Any:
    ws.send(json.dumps(body))
    return json.loads(ws.recv(timeout=30))


def test_batches_errors_and_the_subscription_lifecycle_on_a_raw_socket(
        stack: dict[str, Any]) -> None:
    with connect(stack["ws"], open_timeout=10, additional_headers=auth_headers(stack["ws"])) as ws:
        out = raw_call(ws, [{"jsonrpc": "2.0", "id": 2, "method": "eth_accounts"},
                            {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}])
        assert [o["id"] for o in out] == [2, 1]
        assert out[0]["result"] == stack["accounts"] and int(out[1]["result"], 16) >= 0
        assert raw_call(ws, "nonsense")["error"]["code"] == -32600
        ws.send("{")
        assert json.loads(ws.recv(timeout=30))["error"]["code"] == -32700
        bad = raw_call(ws, {"jsonrpc": "2.0", "id": 3, "method": "eth_subscribe",
                            "params": ["noSuchKind"]})
        assert "error" in bad  # the node's own refusal, passed through
        sub = raw_call(ws, {"jsonrpc": "2.0", "id": 4, "method": "eth_subscribe",
                            "params": ["newHeads"]})["result"]
        rpc(stack["nodeUrl"], "evm_mine")
        note = json.loads(ws.recv(timeout=30))
        assert note["method"] == "eth_subscription" and note["params"]["subscription"] == sub
        done = raw_call(ws, {"jsonrpc": "2.0", "id": 5, "method": "eth_unsubscribe",
                             "params": [sub]})
        assert done == {"jsonrpc": "2.0", "id": 5, "result": True}


def test_oversized_messages_close_the_socket(stack: dict[str, Any]) -> None:
    with connect(stack["ws"], open_timeout=10, additional_headers=auth_headers(stack["ws"])) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_accounts",
                            "params": ["x" * 200_000]}))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=30)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_web_pages_and_plain_http_are_refused(stack: dict[str, Any]) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(stack["ws"], origin="https://evil.example", open_timeout=10,  # type: ignore[arg-type]
                additional_headers=auth_headers(stack["ws"]))
    assert info.value.response.status_code == 403
    plain = requests.get(stack["ws"].replace("ws://", "http://"), timeout=10)
    assert plain.status_code == 426


def test_limited_keys_are_checked_per_message(stack: dict[str, Any]) -> None:
    """A read-only key may read over the socket but not send; a key limited to one sender
    may sign only for it. Each refusal is a JSON-RPC error, and the socket stays usable."""
    keys = ApiKeyStore(redis.Redis.from_url(stack["redisUrl"]))
    _, reader = keys.create("ws-reader", read_only=True)
    _, limited = keys.create("ws-limited", senders=[stack["accounts"][0]])
    sender, other = stack["accounts"][0], stack["accounts"][1]
    send = {"jsonrpc": "2.0", "id": 2, "method": "eth_sendTransaction",
            "params": [{"from": sender, "to": other, "value": "0x1"}]}
    with connect(stack["ws"], open_timeout=10,
                 additional_headers={"Authorization": f"Bearer {reader.reveal()}"}) as ws:
        assert raw_call(ws, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})[
            "result"] == "0x7a69"
        refused = raw_call(ws, send)
        assert refused["id"] == 2 and refused["error"]["data"]["code"] == "forbidden"
        assert "read-only" in refused["error"]["message"]
        assert raw_call(ws, {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber"})["result"]
    with connect(stack["ws"], open_timeout=10,
                 additional_headers={"Authorization": f"Bearer {limited.reveal()}"}) as ws:
        foreign = raw_call(ws, {"jsonrpc": "2.0", "id": 4, "method": "personal_sign",
                                "params": ["0x68656c6c6f", other]})
        assert foreign["error"]["data"]["code"] == "forbidden"
        own = raw_call(ws, {"jsonrpc": "2.0", "id": 5, "method": "personal_sign",
                            "params": ["0x68656c6c6f", sender]})
        assert own["result"].startswith("0x") and len(own["result"]) == 132

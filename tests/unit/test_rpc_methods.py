"""JSON-RPC local methods over a fake vault, waiting for the broadcast, and the WebSocket
subscription relay and session."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from tests.unit.rpc_fakes import ADDRESS, KEY, STRANGER, FakeProxy, answer, req
from worker.domain.errors import KvsignerError, ValidationError
from worker.domain.records import Status, TxRecord, TxRequest
from worker.rpc.dispatch import Dispatcher
from worker.rpc.errors import RpcError, from_kvsigner
from worker.rpc.methods import RpcContext, local_methods
from worker.rpc.send import wait_for_broadcast
from worker.rpc.subscriptions import NodeSubscriptions, _Call, node_ws_url
from worker.rpc.ws_session import WsSession
from worker.settings import Settings
from worker.signing.base import Signature, VaultAccount
from worker.signing.secp256k1 import address_from_public_key

# --- local methods over a fake vault ------------------------------------------------------

class LocalSigner:
    def __init__(self) -> None:
        public = KEY.public_key.to_bytes()
        self.acct = VaultAccount(address=address_from_public_key(public), key_name="k",
                                 key_version="1", key_id="https://v/keys/k/1",
                                 public_key=public)

    def accounts(self) -> list[VaultAccount]:
        return [self.acct]

    def account(self, address: str) -> VaultAccount:
        if address.lower() != self.acct.address.lower():
            raise ValidationError("unknown_account", f"{address} is not an account of the "
                                  "vault")
        return self.acct

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        self.account(address)
        sig = KEY.sign_msg_hash(digest)
        return Signature(r=sig.r, s=sig.s, recid=sig.v)


class FakeServices:
    def __init__(self) -> None:
        self.settings = Settings()
        self.signer = LocalSigner()

    def accounts(self) -> list[VaultAccount]:
        return self.signer.accounts()

    def is_account(self, address: str) -> bool:
        return address.lower() == ADDRESS.lower()

    def chain_id(self) -> int:
        return 31337


def methods_dispatcher() -> Dispatcher:
    ctx = RpcContext(FakeServices(), enqueue=lambda _id: None)  # type: ignore[arg-type]
    return Dispatcher(local_methods(ctx), FakeProxy())


def test_accounts_and_message_signatures_recover_to_the_vault_account() -> None:
    d = methods_dispatcher()
    assert answer(d, req("eth_accounts", 1, []))["result"] == [ADDRESS]
    assert answer(d, req("personal_listAccounts"))["result"] == [ADDRESS]
    signed = answer(d, req("eth_sign", 1, [ADDRESS.lower(), "0x" + b"hi".hex()]))["result"]
    assert Account.recover_message(encode_defunct(b"hi"), signature=signed) == ADDRESS
    # personal_sign takes the data first; plain text is signed as UTF-8.
    signed = answer(d, req("personal_sign", 1, ["hello", ADDRESS]))["result"]
    assert Account.recover_message(encode_defunct(text="hello"), signature=signed) == ADDRESS
    typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                       "Mail": [{"name": "body", "type": "string"}]},
             "primaryType": "Mail", "domain": {"name": "t"}, "message": {"body": "x"}}
    signed = answer(d, req("eth_signTypedData_v4", 1, [ADDRESS, json.dumps(typed)]))["result"]
    assert int(signed[-2:], 16) in (27, 28)
    assert Account.recover_message(encode_typed_data(full_message=typed),
                                   signature=signed) == ADDRESS


@pytest.mark.parametrize(("method", "params", "code"), [
    ("eth_accounts", [1], -32602),
    ("eth_sign", [ADDRESS], -32602),
    ("eth_sign", ["0x1234", "0x00"], -32602),
    ("eth_sign", [ADDRESS, "zz"], -32602),
    ("eth_sign", [STRANGER, "0x00"], -32000),
    ("personal_sign", ["0x00", STRANGER], -32000),
    ("eth_signTypedData_v4", [ADDRESS, "{not json"], -32602),
    ("eth_signTypedData_v4", [ADDRESS, {"types": {}}], -32602),
    ("eth_sendTransaction", [], -32602),
    ("eth_sendTransaction", ["0x"], -32602),
    ("eth_sendTransaction", [{"from": ADDRESS, "to": ADDRESS, "nonce": "0x1"}], -32602),
    ("eth_sendTransaction", [{"from": ADDRESS, "to": ADDRESS, "chainId": "0x1"}], -32602),
    ("eth_sendTransaction", [{"from": STRANGER, "to": ADDRESS}], -32000),
])
def test_bad_params_are_refused_before_anything_is_stored(method: str, params: list[Any],
                                                          code: int) -> None:
    out = answer(methods_dispatcher(), req(method, 1, params))
    assert out["error"]["code"] == code, out


def test_a_given_nonce_is_refused_with_a_clear_reason() -> None:
    out = answer(methods_dispatcher(), req("eth_sendTransaction", 1, [
        {"from": ADDRESS, "to": ADDRESS, "nonce": "0x1"}]))
    assert "nonce" in out["error"]["message"] and "kvsigner" in out["error"]["message"]


# --- waiting for the broadcast -------------------------------------------------------------

def record(status: Status, **fields: Any) -> TxRecord:
    return TxRecord(id="ab" * 16, request=TxRequest(sender=ADDRESS), chain_id=1,
                    status=status, **fields)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_send_answers_the_hash_once_submitted() -> None:
    states = iter([record(Status.QUEUED), record(Status.SIGNED, hash="0x01"),
                   record(Status.SUBMITTED, hash="0x01")])
    clock = Clock()
    assert wait_for_broadcast(lambda _id: next(states), "id", 5, 0.1, clock,
                              clock.sleep) == "0x01"
    assert clock.now == pytest.approx(0.2)


def test_a_failed_record_becomes_its_error_with_the_record_id() -> None:
    failed = record(Status.FAILED, error={"code": "execution_reverted",
                                          "message": "execution reverted: nope"})
    with pytest.raises(RpcError) as info:
        wait_for_broadcast(lambda _id: failed, failed.id, 5, 0.1)
    assert info.value.code == -32000 and "nope" in info.value.message
    assert info.value.data == {"code": "execution_reverted", "id": failed.id}


def test_a_timeout_names_the_still_queued_record() -> None:
    clock = Clock()
    with pytest.raises(RpcError) as info:
        wait_for_broadcast(lambda _id: record(Status.QUEUED), "ab" * 16, 1.0, 0.1, clock,
                           clock.sleep)
    assert "ab" * 16 in info.value.message and "queued" in info.value.message
    assert info.value.data["code"] == "send_timeout"
    assert clock.now == pytest.approx(1.0)


# --- subscription relay ----------------------------------------------------------------------

def test_node_ws_url_follows_the_http_url() -> None:
    assert node_ws_url("http://127.0.0.1:8545") == "ws://127.0.0.1:8545"
    assert node_ws_url("https://node.example/key") == "wss://node.example/key"
    assert node_ws_url("http://x", "ws://y:1") == "ws://y:1"


def test_notifications_wait_until_the_client_has_the_subscription_id() -> None:
    delivered: list[str] = []
    relay = NodeSubscriptions("ws://unused", delivered.append, lambda: None)
    call = _Call("eth_subscribe")
    relay._pending[1] = call

    def note(sub: str, n: int) -> str:
        return json.dumps({"jsonrpc": "2.0", "method": "eth_subscription",
                           "params": {"subscription": sub, "result": n}})

    relay._on_message(json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0xs"}))
    assert call.done.is_set()
    relay._on_message(note("0xs", 1))
    relay._on_message(note("0xother", 9))          # not ours: dropped
    assert delivered == []
    relay.release({"jsonrpc": "2.0", "id": 5, "result": "0xs"})
    relay._on_message(note("0xs", 2))
    assert [json.loads(t)["params"]["result"] for t in delivered] == [1, 2]


def test_kvsigner_errors_keep_their_code_in_data() -> None:
    err = from_kvsigner(KvsignerError("vault_throttled", "the vault kept answering 429"))
    assert err.code == -32000 and err.data == {"code": "vault_throttled"}


class ScriptedSocket:
    """A client that sends ``messages``, waits for as many answers, then disconnects."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        self.expected = len(messages)
        self.sent: list[str] = []
        self.connected = True

    def send(self, data: str) -> None:
        self.sent.append(data)

    def receive(self, timeout: float | None = None) -> str | None:
        if self.messages:
            return self.messages.pop(0)
        for _ in range(200):
            if len(self.sent) >= self.expected:
                break
            time.sleep(0.01)
        raise ConnectionError("closed")

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        pass


def test_a_session_answers_each_message_and_closes_the_relay_when_the_client_leaves() -> None:
    sock = ScriptedSocket([json.dumps(req("local_echo", 1, ["a"])), "{"])
    session = WsSession(sock, lambda extra: Dispatcher({**extra, "local_echo": lambda p: p},
                                                       FakeProxy()),
                        "ws://127.0.0.1:1", workers=1)
    session.run()
    answers = sorted((json.loads(s) for s in sock.sent), key=lambda a: a["id"] or 0)
    assert answers[0]["error"]["code"] == -32700 and answers[1]["result"] == ["a"]
    assert session.relay._closing

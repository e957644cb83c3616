"""JSON-RPC dispatch as pure logic: parsing, request shapes, params, error mapping, batch
ordering, the node proxy's id bookkeeping, the send wait, and the subscription relay's
holding of early notifications. The node and the vault are fakes here; the real ones are
exercised by tests/integration/test_rpc_http.py and test_rpc_ws.py."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys import keys

from worker.domain.errors import KvsignerError, ValidationError
from worker.domain.records import Status, TxRecord, TxRequest
from worker.rpc.dispatch import Dispatcher
from worker.rpc.errors import RpcError, from_kvsigner
from worker.rpc.methods import RpcContext, local_methods
from worker.rpc.proxy import NodeProxy
from worker.rpc.send import wait_for_broadcast
from worker.rpc.subscriptions import NodeSubscriptions, _Call, node_ws_url
from worker.rpc.ws_session import WsSession
from worker.settings import Settings
from worker.signing.base import Signature, VaultAccount
from worker.signing.secp256k1 import address_from_public_key

KEY = keys.PrivateKey(bytes.fromhex("11" * 32))
ADDRESS = KEY.public_key.to_checksum_address()
STRANGER = "0x" + "22" * 20


class FakeProxy:
    def __init__(self) -> None:
        self.single: list[dict[str, Any]] = []
        self.batches: list[list[dict[str, Any]]] = []

    def forward(self, request: dict[str, Any]) -> dict[str, Any] | None:
        self.single.append(request)
        return None if "id" not in request else {"jsonrpc": "2.0", "id": request["id"],
                                                 "result": "node:" + request["method"]}

    def forward_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        self.batches.append(requests)
        return [self.forward(r) for r in requests]


def boom(_params: list[Any]) -> Any:
    raise RuntimeError("secret detail")


def dispatcher(proxy: FakeProxy | None = None, max_batch: int = 5) -> Dispatcher:
    calls: list[list[Any]] = []

    def echo(params: list[Any]) -> Any:
        calls.append(params)
        return params

    def invalid(_params: list[Any]) -> Any:
        raise ValidationError("fee_conflict", "gasPrice with maxFeePerGas")

    def unknown(_params: list[Any]) -> Any:
        raise ValidationError("unknown_account", f"{STRANGER} is not an account of the vault")

    methods = {"local_echo": echo, "local_invalid": invalid, "local_unknown": unknown,
               "local_boom": boom}
    d = Dispatcher(methods, proxy or FakeProxy(), max_batch)
    d.calls = calls  # type: ignore[attr-defined]
    return d


def req(method: str, rid: Any = 1, params: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = params
    return body


def answer(d: Dispatcher, body: Any) -> Any:
    text = d.handle_text(body if isinstance(body, str | bytes) else json.dumps(body))
    return None if text is None else json.loads(text)


@pytest.mark.parametrize("body", ["{", "", "[1,", "NaN", b"\xff\xfe{"])
def test_a_body_that_is_not_json_is_a_parse_error(body: Any) -> None:
    out = answer(dispatcher(), body)
    assert out["error"]["code"] == -32700 and out["id"] is None


@pytest.mark.parametrize(("body", "rid"), [
    (1, None),
    ({"id": 7, "method": "x"}, 7),                            # no jsonrpc member
    ({"jsonrpc": "1.0", "id": 7, "method": "x"}, 7),
    ({"jsonrpc": "2.0", "id": "a", "method": 5}, "a"),
    ({"jsonrpc": "2.0", "id": 3, "method": "x", "params": "p"}, 3),
    ({"jsonrpc": "2.0", "id": [1], "method": "x"}, None),
    ({"jsonrpc": "2.0", "id": True, "method": "x"}, None),
])
def test_malformed_requests_are_invalid_requests(body: Any, rid: Any) -> None:
    proxy = FakeProxy()
    out = answer(dispatcher(proxy), body)
    assert out["error"]["code"] == -32600 and out["id"] == rid
    assert not proxy.single and not proxy.batches


def test_empty_and_oversized_batches_get_one_error() -> None:
    assert answer(dispatcher(), [])["error"]["code"] == -32600
    out = answer(dispatcher(max_batch=2), [req("a", i) for i in range(3)])
    assert out["error"]["code"] == -32600 and "limit of 2" in out["error"]["message"]


def test_unknown_methods_go_to_the_node_unchanged() -> None:
    proxy = FakeProxy()
    body = req("eth_getBalance", "abc", [ADDRESS, "latest"])
    assert answer(dispatcher(proxy), body) == {"jsonrpc": "2.0", "id": "abc",
                                               "result": "node:eth_getBalance"}
    assert proxy.single == [body]


def test_denied_prefixes_never_reach_the_node() -> None:
    proxy = FakeProxy()
    d = Dispatcher({}, proxy, deny_prefixes=("anvil_", "debug_"))
    out = answer(d, req("anvil_setBalance", 7, [ADDRESS, "0x1"]))
    assert out["error"]["code"] == -32601 and out["id"] == 7
    batch = answer(d, [req("debug_traceTransaction", 1, ["0x00"]), req("eth_chainId", 2)])
    assert [r["id"] for r in batch] == [1, 2]
    assert batch[0]["error"]["code"] == -32601 and batch[1]["result"] == "node:eth_chainId"
    assert [r["method"] for r in proxy.single] == ["eth_chainId"]  # via the batch only
    assert [[r["method"] for r in b] for b in proxy.batches] == [["eth_chainId"]]


def test_a_guard_refuses_a_whole_body_before_anything_runs() -> None:
    proxy = FakeProxy()
    d = Dispatcher({}, proxy, guard=lambda body: "no" if "eth_sendTransaction" in str(body)
                   else None)
    out = answer(d, req("eth_sendTransaction", 9, [{}]))
    assert out["id"] == 9 and out["error"]["data"] == {"code": "forbidden"}
    batch = answer(d, [req("eth_chainId", 1), req("eth_sendTransaction", 2, [{}])])
    assert batch["id"] is None and batch["error"]["message"] == "no"
    assert proxy.single == [] and proxy.batches == []
    assert answer(d, req("eth_chainId", 3))["result"] == "node:eth_chainId"


def test_local_params_must_be_positional_and_errors_map_to_codes() -> None:
    d = dispatcher()
    assert answer(d, req("local_echo", 1, {"a": 1}))["error"]["code"] == -32602
    invalid = answer(d, req("local_invalid"))["error"]
    assert invalid["code"] == -32602 and invalid["data"] == {"code": "fee_conflict"}
    unknown = answer(d, req("local_unknown"))["error"]
    assert unknown["code"] == -32000 and unknown["data"]["code"] == "unknown_account"
    assert unknown["message"].startswith("unknown account") and STRANGER in unknown["message"]
    internal = answer(d, req("local_boom"))["error"]
    assert internal["code"] == -32603 and "secret" not in json.dumps(internal)


def test_notifications_run_without_an_answer() -> None:
    d = dispatcher()
    note = {"jsonrpc": "2.0", "method": "local_echo", "params": [1]}
    assert answer(d, note) is None
    assert answer(d, [note, note]) is None
    assert d.calls == [[1], [1], [1]]  # type: ignore[attr-defined]


def test_a_mixed_batch_answers_in_request_order_and_proxies_once() -> None:
    proxy = FakeProxy()
    batch = [req("eth_blockNumber", 1), req("local_echo", 2, ["x"]), "junk",
             {"jsonrpc": "2.0", "method": "eth_chainId"},      # a proxied notification
             req("eth_getBalance", 1, [ADDRESS]), req("local_invalid", 5)]
    out = answer(dispatcher(proxy, max_batch=10), batch)
    assert [(o["id"], "result" in o) for o in out] == [
        (1, True), (2, True), (None, False), (1, True), (5, False)]
    assert out[0]["result"] == "node:eth_blockNumber"
    assert out[1]["result"] == ["x"] and out[2]["error"]["code"] == -32600
    assert out[3]["result"] == "node:eth_getBalance" and out[4]["error"]["code"] == -32602
    assert len(proxy.batches) == 1 and [r["method"] for r in proxy.batches[0]] == [
        "eth_blockNumber", "eth_chainId", "eth_getBalance"]


class ShuffledNode:
    """Answers a batch in reverse order, like a node is allowed to."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: Any = None

    def raw(self, payload: Any) -> Any:
        self.sent = payload
        if self.fail:
            raise ConnectionError("http://user:key@node/")
        return [{"jsonrpc": "2.0", "id": r["id"], "result": r["params"][0]}
                for r in reversed(payload) if "id" in r]


def test_the_proxy_restores_client_ids_whatever_the_node_order() -> None:
    node = ShuffledNode()
    requests = [req("m", 9, ["a"]), req("m", 9, ["b"]), {"jsonrpc": "2.0", "method": "m",
                                                           "params": ["n"]}]
    out = NodeProxy(node).forward_batch(requests)
    assert [o and (o["id"], o["result"]) for o in out] == [(9, "a"), (9, "b"), None]
    assert [r.get("id") for r in node.sent] == [0, 1, None]


def test_an_unreachable_node_is_a_server_error_without_its_url() -> None:
    out = NodeProxy(ShuffledNode(fail=True)).forward_batch([req("m", 4, ["a"])])
    assert out[0] is not None and out[0]["id"] == 4
    assert out[0]["error"]["code"] == -32000
    assert out[0]["error"]["data"] == {"code": "node_unavailable"}
    assert "key" not in json.dumps(out)


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

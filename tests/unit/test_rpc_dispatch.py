"""JSON-RPC dispatch as pure logic: parsing, request shapes, params, error mapping, batch
ordering, the node proxy's id bookkeeping, the send wait, and the subscription relay's
holding of early notifications. The node and the vault are fakes here; the real ones are
exercised by tests/integration/test_rpc_http.py and test_rpc_ws.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.rpc_fakes import ADDRESS, STRANGER, FakeProxy, answer, dispatcher, req
from worker.rpc.dispatch import Dispatcher
from worker.rpc.proxy import NodeProxy


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

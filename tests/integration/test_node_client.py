"""``NodeClient`` against a real anvil, and against small local servers that misbehave the
ways nodes and the proxies in front of them do (HTTP errors, bodies that are not JSON)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ops.processes import ManagedProcess, free_port
from worker.chain.node import NodeClient
from worker.domain.errors import NodeError


@pytest.fixture
def node(anvil: ManagedProcess) -> NodeClient:
    return NodeClient(str(anvil.extra["url"]), timeout=5)


class _Canned(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``status`` and ``body``; keeps the headers."""

    def do_POST(self) -> None:
        server = self.server
        server.seen.append(self.headers)  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(server.body)  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.status, server.body, server.seen = 200, b"{}", []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer, userinfo: str = "") -> str:
    return f"http://{userinfo}127.0.0.1:{server.server_address[1]}/"


def test_typed_calls_return_plain_values(node: NodeClient) -> None:
    assert node.chain_id() == 31337
    assert node.block_number() >= 0
    block = node.get_block("latest")
    assert block is not None and block["hash"].startswith("0x")
    assert node.get_receipt("0x" + "00" * 32) is None


def test_json_rpc_error_is_classified(node: NodeClient) -> None:
    with pytest.raises(NodeError) as err:
        node.send_raw_transaction("0x00")
    assert err.value.code != "node_unavailable"
    assert err.value.node_class != "TRANSPORT"


def test_raw_forwards_batches_unchanged(node: NodeClient) -> None:
    answer = node.raw([{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []},
                       {"jsonrpc": "2.0", "id": 8, "method": "no_such_method", "params": []}])
    by_id = {item["id"]: item for item in answer}
    assert by_id[7]["result"] == "0x7a69"
    assert "error" in by_id[8]


def test_refused_connection_is_a_retryable_transport_error() -> None:
    port = free_port()
    with pytest.raises(NodeError) as err:
        NodeClient(f"http://127.0.0.1:{port}", timeout=2).block_number()
    assert (err.value.code, err.value.node_class, err.value.retryable) == (
        "node_unavailable", "TRANSPORT", True)


@pytest.mark.parametrize(("status", "body"), [(502, b"bad gateway"), (200, b"<html>")])
def test_http_error_or_non_json_is_unavailable(canned: ThreadingHTTPServer, status: int,
                                               body: bytes) -> None:
    canned.status, canned.body = status, body  # type: ignore[attr-defined]
    client = NodeClient(_url(canned), timeout=2)
    with pytest.raises(NodeError) as err:
        client.block_number()
    assert err.value.code == "node_unavailable" and err.value.retryable
    with pytest.raises(NodeError):
        client.raw({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})


def test_url_credentials_become_basic_auth_and_stay_out_of_errors(
        canned: ThreadingHTTPServer) -> None:
    client = NodeClient(_url(canned, "alice:s3cret@"), timeout=2)
    canned.body = b'{"jsonrpc":"2.0","id":1,"result":"0x10"}'  # type: ignore[attr-defined]
    assert client.block_number() == 16
    sent = canned.seen[-1]  # type: ignore[attr-defined]
    assert sent.get("Authorization") == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    canned.status = 500  # type: ignore[attr-defined]
    with pytest.raises(NodeError) as err:
        client.block_number()
    assert "s3cret" not in str(err.value) and "alice" not in str(err.value)


def test_batch_answers_in_order_and_raises_the_first_error(node: NodeClient) -> None:
    chain, number = node.batch([("eth_chainId", []), ("eth_blockNumber", [])])
    assert chain == "0x7a69" and int(number, 16) >= 0
    with pytest.raises(NodeError) as err:
        node.batch([("eth_chainId", []), ("eth_sendRawTransaction", ["0x00"])])
    assert err.value.code != "node_unavailable"


def test_batch_falls_back_to_single_calls_when_batches_are_refused(
        canned: ThreadingHTTPServer) -> None:
    # A provider without batch support answers the batch with one object, not a list.
    canned.body = b'{"jsonrpc":"2.0","id":1,"result":"0x10"}'  # type: ignore[attr-defined]
    client = NodeClient(_url(canned), timeout=2)
    assert client.batch([("eth_blockNumber", []), ("eth_chainId", [])]) == ["0x10", "0x10"]
    assert len(canned.seen) == 3  # type: ignore[attr-defined]


def test_a_malformed_url_fails_per_call_without_showing_it() -> None:
    client = NodeClient("http://bob:pw%40x@127.0.0.1:notaport/", timeout=2)
    with pytest.raises(NodeError) as err:
        client.block_number()
    assert err.value.code == "node_unavailable"
    assert "pw" not in str(err.value) and "bob" not in str(err.value)

"""The REST API over a real Redis, a real anvil and the emulator-backed vault signer.

The API's contract with the workers is "saved, then handed to ``enqueue``": ``enqueue`` here
records ids, and worker behaviour is tested elsewhere.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from api.app import create_app
from ops.processes import ROOT, ManagedProcess, free_port
from worker.domain.records import Status
from worker.services import Services
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner
from worker.signing.factory import build_signer

pytestmark = pytest.mark.integration

TO = "0x8617E340B3D01FA5F11F306F4090FD50E238070D".lower()


@pytest.fixture(scope="module")
def base_settings(emulator: ManagedProcess, anvil: ManagedProcess) -> Settings:
    return Settings.from_env(vault_env(emulator), node_url=str(anvil.extra["url"]))


@pytest.fixture(scope="module")
def signer(base_settings: Settings) -> Iterator[AzureKeyVaultSigner]:
    with build_signer(base_settings) as vault_signer:
        yield vault_signer


@pytest.fixture
def accounts(signer: AzureKeyVaultSigner) -> list[str]:
    return [a.address for a in signer.accounts()]


class Api:
    """A test client plus what the app enqueued and raw access to its Redis."""

    def __init__(self, services: Services,
                 enqueue: Callable[[str], None] | None = None) -> None:
        self.services = services
        self.enqueued: list[str] = []
        self.app: Flask = create_app(services, enqueue or self.enqueued.append)
        self.client: FlaskClient = self.app.test_client()
        self.redis: redis.Redis = services.redis

    def post(self, body: Any, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post("/transactions", json=body, headers=headers)

    def redis_keys(self) -> set[bytes]:
        return {k if isinstance(k, bytes) else k.encode() for k in self.redis.keys("kvsigner:*")}


def make_api(settings: Settings, signer: AzureKeyVaultSigner,
             enqueue: Callable[[str], None] | None = None, **changes: Any) -> Api:
    return Api(Services(settings.replace(**{"auth": "off", **changes}), signer=signer), enqueue)


def vault_env(emulator: ManagedProcess) -> dict[str, str]:
    return cast(dict[str, str], emulator.extra["env"])


@pytest.fixture
def api(base_settings: Settings, signer: AzureKeyVaultSigner, redis_url: str) -> Iterator[Api]:
    built = make_api(base_settings, signer, redis_url=redis_url)
    yield built
    built.redis.close()


def _error(resp: Any) -> str:
    assert resp.is_json, resp.data
    return str(resp.get_json()["error"]["code"])


# --- POST and GET -------------------------------------------------------------------------

def test_post_saves_queues_and_enqueues_once(api: Api, accounts: list[str]) -> None:
    resp = api.post({"from": accounts[0].lower(), "to": TO, "value": "0x10",
                     "metadata": {"order": 1}})
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "queued"
    assert body["from"] == accounts[0]
    assert body["chainId"] == 31337
    assert body["request"]["value"] == "16"
    assert resp.headers["Location"] == f"/transactions/{body['id']}"
    assert "Idempotent-Replayed" not in resp.headers
    assert api.enqueued == [body["id"]]
    assert api.redis.exists(f"kvsigner:tx:{body['id']}")
    got = api.client.get(f"/transactions/{body['id']}")
    assert got.status_code == 200
    assert got.get_json() == body


def test_utf8_charset_parameter_is_accepted(api: Api, accounts: list[str]) -> None:
    resp = api.client.post("/transactions", data=json.dumps(_tx(accounts[0])),
                           content_type="application/json; charset=UTF-8")
    assert resp.status_code == 202, resp.get_json()


def test_enqueue_failure_still_accepts(base_settings: Settings, signer: AzureKeyVaultSigner,
                                       redis_url: str, accounts: list[str]) -> None:
    """The record is saved before enqueueing; the sweeper queues it if the broker is down.
    A 5xx here would invite a client retry, i.e. a second transaction."""
    def broken(tx_id: str) -> None:
        raise ConnectionError("broker down")

    api = make_api(base_settings, signer, broken, redis_url=redis_url)
    resp = api.post({"from": accounts[0], "to": TO})
    assert resp.status_code == 202
    saved = api.services.store.get(resp.get_json()["id"])
    assert saved is not None and saved.status == Status.QUEUED


def test_get_unknown_and_malformed_ids(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    resp = api.client.get("/transactions/" + "a" * 32)
    assert (resp.status_code, _error(resp)) == (404, "not_found")

    def no_redis(tx_id: str) -> None:
        raise AssertionError("Redis was asked for a malformed id")

    monkeypatch.setattr(api.services.store, "get", no_redis)
    for bad in ("abc", "A" * 32, "a" * 33, "g" * 32, "..%2f" + "a" * 28):
        resp = api.client.get(f"/transactions/{bad}")
        assert (resp.status_code, _error(resp)) == (404, "not_found"), bad


# --- listing ------------------------------------------------------------------------------

def test_list_pages_newest_first_with_filters(api: Api, accounts: list[str]) -> None:
    ids = []
    for i in range(7):
        resp = api.post({"from": accounts[i % 2], "to": TO, "value": i})
        assert resp.status_code == 202
        ids.append(resp.get_json()["id"])
        time.sleep(0.002)  # distinct creation milliseconds make the order exact
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(f"/transactions?{query}").get_json()
        assert len(page["transactions"]) <= 3
        seen += [t["id"] for t in page["transactions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    mine = api.client.get(f"/transactions?from={accounts[1].lower()}").get_json()
    assert [t["id"] for t in mine["transactions"]] == [ids[5], ids[3], ids[1]]
    assert mine["nextCursor"] is None
    api.services.store.update(ids[2], lambda r: r.transition(Status.SIGNED))
    signed = api.client.get("/transactions?status=signed").get_json()
    assert [t["id"] for t in signed["transactions"]] == [ids[2]]
    both = api.client.get(f"/transactions?status=queued&from={accounts[0]}").get_json()
    assert [t["id"] for t in both["transactions"]] == [ids[6], ids[4], ids[0]]
    assert api.client.get("/transactions?status=failed").get_json() == {
        "transactions": [], "nextCursor": None}


@pytest.mark.parametrize(("query", "code"), [
    ("limit=0", "invalid_field"), ("limit=201", "invalid_field"), ("limit=abc", "invalid_field"),
    ("limit=-1", "invalid_field"), ("limit=" + "9" * 5000, "invalid_field"),
    ("status=done", "invalid_field"), ("from=0x1234", "invalid_address"),
    ("sender=0x" + "1" * 40, "invalid_field"), ("limit=5&limit=6", "invalid_field"),
    ("cursor=%21%21", "invalid_cursor"), ("cursor=Zm9v", "invalid_cursor"),
])
def test_list_rejects_bad_queries(api: Api, query: str, code: str) -> None:
    resp = api.client.get(f"/transactions?{query}")
    assert (resp.status_code, _error(resp)) == (400, code)


# --- idempotency --------------------------------------------------------------------------

def test_idempotent_repeat_returns_the_same_record(api: Api, accounts: list[str]) -> None:
    body = {"from": accounts[0], "to": TO, "value": "5"}
    first = api.post(body, key="order-42")
    assert first.status_code == 202
    reordered = {"value": "5", "to": TO, "from": accounts[0]}
    again = api.post(reordered, key="order-42")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert api.enqueued == [first.get_json()["id"]]
    keys = api.redis_keys()
    conflict = api.post({**body, "value": "6"}, key="order-42")
    assert (conflict.status_code, _error(conflict)) == (409, "idempotency_conflict")
    assert api.redis_keys() == keys
    assert api.enqueued == [first.get_json()["id"]]


# --- bad input: the right code, nothing stored, nothing enqueued ---------------------------

def _tx(sender: str, **extra: Any) -> dict[str, Any]:
    return {"from": sender, "to": TO, "value": "1", **extra}


BAD_INPUT: list[tuple[str, Any, int, str]] = [
    # (case, request kwargs or a function of the accounts giving them, status, code)
    ("malformed JSON", {"data": b'{"from": ', "content_type": "application/json"},
     400, "invalid_json"),
    ("empty body", {"data": b"", "content_type": "application/json"}, 400, "invalid_json"),
    ("JSON array", {"data": b"[]", "content_type": "application/json"}, 400, "invalid_json"),
    ("NaN", {"data": b'{"value": NaN}', "content_type": "application/json"}, 400,
     "invalid_json"),
    ("not UTF-8", {"data": b'{"from": "\xff"}', "content_type": "application/json"}, 400,
     "invalid_json"),
    ("duplicate key", lambda a: {"data": f'{{"from": "{a[0]}", "to": "{TO}", "to": null}}',
                                 "content_type": "application/json"}, 400, "invalid_json"),
    ("text/plain", lambda a: {"data": json.dumps(_tx(a[0])), "content_type": "text/plain"},
     415, "unsupported_media_type"),
    ("form body", {"data": {"from": "x"}}, 415, "unsupported_media_type"),
    ("no content type", lambda a: {"data": json.dumps(_tx(a[0]))}, 415,
     "unsupported_media_type"),
    ("latin-1 JSON", lambda a: {"data": json.dumps(_tx(a[0])),
                                "content_type": "application/json; charset=latin-1"},
     415, "unsupported_media_type"),
    ("oversized", lambda a: {"json": _tx(a[0], metadata={"x": "a" * 200_000})}, 413,
     "body_too_large"),
    ("invalid address", lambda a: {"json": _tx(a[0], to="0x1234")}, 400, "invalid_address"),
    ("bad checksum", lambda a: {"json": _tx(a[0][:2] + a[0][2:].swapcase())}, 400,
     "invalid_address"),
    ("not a vault account", {"json": _tx("0x" + "11" * 20)}, 400, "unknown_account"),
    ("non-hex data", lambda a: {"json": _tx(a[0], data="0xzz")}, 400, "invalid_field"),
    ("negative value", lambda a: {"json": _tx(a[0], value=-1)}, 400, "invalid_field"),
    ("value over 2^256-1", lambda a: {"json": _tx(a[0], value=str(2**256))}, 400,
     "invalid_field"),
    ("gasPrice and maxFeePerGas", lambda a: {"json": _tx(
        a[0], gasPrice=1, maxFeePerGas=2, maxPriorityFeePerGas=1)}, 400, "fee_conflict"),
    ("priority above max", lambda a: {"json": _tx(
        a[0], maxFeePerGas=1, maxPriorityFeePerGas=2)}, 400, "fee_conflict"),
    ("wrong chain id", lambda a: {"json": _tx(a[0], chainId=1)}, 400, "wrong_chain"),
    ("nonce given", lambda a: {"json": _tx(a[0], nonce=1)}, 400, "invalid_field"),
    ("unknown field", lambda a: {"json": _tx(a[0], gasLimit=1)}, 400, "invalid_field"),
    ("Idempotency-Key too long", lambda a: {"json": _tx(a[0]),
                                            "headers": {"Idempotency-Key": "k" * 201}},
     400, "invalid_field"),
]


@pytest.mark.parametrize(("request_kwargs", "status", "code"),
                         [(k, s, c) for _, k, s, c in BAD_INPUT],
                         ids=[name for name, _, _, _ in BAD_INPUT])
def test_bad_input_stores_and_enqueues_nothing(api: Api, accounts: list[str],
                                               request_kwargs: Any, status: int,
                                               code: str) -> None:
    kwargs = request_kwargs(accounts) if callable(request_kwargs) else request_kwargs
    before = api.redis_keys()
    resp = api.client.post("/transactions", **kwargs)
    assert (resp.status_code, _error(resp)) == (status, code)
    assert resp.get_json()["error"]["message"]
    assert api.redis_keys() == before
    assert not any(k.startswith((b"kvsigner:tx:", b"kvsigner:idx")) for k in api.redis_keys())
    assert api.enqueued == []


# --- accounts, health, readiness, status --------------------------------------------------

def test_accounts_lists_the_vault_accounts(api: Api, accounts: list[str]) -> None:
    resp = api.client.get("/accounts")
    assert resp.status_code == 200
    listed = resp.get_json()["accounts"]
    assert [a["address"] for a in listed] == accounts
    assert len(listed) == 3
    assert all(a["enabled"] and a["keyId"].startswith("https://") for a in listed)


def test_healthz(api: Api) -> None:
    resp = api.client.get("/healthz")
    assert (resp.status_code, resp.get_json()) == (200, {"status": "ok"})


def test_readyz_up(api: Api) -> None:
    resp = api.client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "ready"
    assert {k: v["ok"] for k, v in body["checks"].items()} == {
        "redis": True, "node": True, "vault": True}


def test_readyz_node_down(base_settings: Settings, signer: AzureKeyVaultSigner,
                          redis_url: str, emulator: ManagedProcess) -> None:
    down = make_api(base_settings, signer, redis_url=redis_url,
                    node_url=f"http://127.0.0.1:{free_port()}")
    resp = down.client.get("/readyz")
    assert resp.status_code == 503
    checks = resp.get_json()["checks"]
    assert checks["node"] == {"ok": False, "ms": checks["node"]["ms"],
                              "error": "node_unavailable"}
    assert checks["redis"]["ok"] and checks["vault"]["ok"]
    assert vault_env(emulator)["AZURE_CLIENT_SECRET"] not in resp.get_data(as_text=True)


def test_readyz_is_bounded_when_a_dependency_hangs(base_settings: Settings,
                                                   signer: AzureKeyVaultSigner,
                                                   redis_url: str) -> None:
    # A listening socket nobody serves: connections open, requests never get an answer.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        hung = make_api(base_settings, signer, redis_url=redis_url,
                        node_url=f"http://127.0.0.1:{port}", node_timeout=30.0)
        started = time.monotonic()
        resp = hung.client.get("/readyz")
        elapsed = time.monotonic() - started
        status = hung.client.get("/status")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["node"]["error"] == "timeout"
    assert elapsed < 4.0
    assert status.status_code == 200
    assert status.get_json()["node"]["reachable"] is False


def test_status_reports_everything(api: Api, accounts: list[str],
                                   emulator: ManagedProcess, anvil: ManagedProcess) -> None:
    assert api.post({"from": accounts[0], "to": TO}).status_code == 202
    api.redis.rpush("kvsigner.send", "m1", "m2")
    api.redis.set("kvsigner:worker:host-a", 1, ex=30)
    api.redis.set("kvsigner:worker:host-b", 1, ex=30)
    resp = api.client.get("/status")
    assert resp.status_code == 200
    st = resp.get_json()
    assert isinstance(st["version"], str) and st["version"]
    assert st["chainId"] == 31337
    assert isinstance(st["latestBlock"], int) and st["latestBlock"] >= 0
    assert st["node"] == {"url": anvil.extra["url"], "reachable": True}
    assert st["redis"] == {"reachable": True}
    assert st["vault"] == {"url": vault_env(emulator)["KVSIGNER_VAULT_URL"],
                           "reachable": True, "accounts": 3}
    assert st["queues"] == {"kvsigner.send": 2, "kvsigner.receipts": 0, "kvsigner.webhooks": 0}
    assert st["workers"] == 2
    assert st["transactions"]["queued"] == 1
    assert set(st["transactions"]) == {s.value for s in Status}
    assert st["interfaces"] == {"rest": "http://localhost", "rpc": "http://localhost/rpc",
                                "ws": "ws://localhost/ws",
                                "openapi": "http://localhost/openapi.json"}


def test_status_survives_dependencies_down_and_hides_secrets(
        base_settings: Settings, signer: AzureKeyVaultSigner) -> None:
    closed = free_port()
    down = make_api(base_settings, signer, redis_url=f"redis://:pw-redis@127.0.0.1:{closed}/0",
                    node_url=f"http://user:pw-node@127.0.0.1:{closed}/v3/key-123?apikey=k-456",
                    public_url="https://signer.example.com/")
    resp = down.client.get("/status")
    assert resp.status_code == 200
    st = resp.get_json()
    assert st["node"]["url"] == f"http://127.0.0.1:{closed}"
    assert (st["node"]["reachable"], st["redis"]["reachable"]) == (False, False)
    assert st["latestBlock"] is None and st["chainId"] is None
    assert st["queues"] is None and st["workers"] is None and st["transactions"] is None
    assert st["vault"]["accounts"] == 3
    assert st["interfaces"]["ws"] == "wss://signer.example.com/ws"
    text = resp.get_data(as_text=True)
    for secret in ("pw-redis", "pw-node", "key-123", "k-456"):
        assert secret not in text


# --- routing and unexpected errors --------------------------------------------------------

def test_unknown_route_and_wrong_method(api: Api) -> None:
    resp = api.client.get("/nope")
    assert (resp.status_code, _error(resp)) == (404, "not_found")
    resp = api.client.delete("/transactions")
    assert (resp.status_code, _error(resp)) == (405, "method_not_allowed")
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_unexpected_error_is_generic(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("redis://:hunter2@db")

    monkeypatch.setattr(api.services.store, "list", boom)
    resp = api.client.get("/transactions")
    assert (resp.status_code, _error(resp)) == (500, "internal_error")
    assert "hunter2" not in resp.get_data(as_text=True)


# --- over a real socket: body limits and the `kvsigner api` command -----------------------

def _sized_body(sender: str, size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes (padded through ``metadata``)."""
    bare = json.dumps(_tx(sender, metadata={"pad": ""})).encode()
    return json.dumps(_tx(sender, metadata={"pad": "a" * (size - len(bare))})).encode()


def _post_raw(port: int, body: bytes, chunked: bool) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if chunked:  # no Content-Length: the server cannot know the size in advance
            conn.request("POST", "/transactions", body=iter([body[:10], body[10:]]),
                         headers={"Content-Type": "application/json"}, encode_chunked=True)
        else:
            conn.request("POST", "/transactions", body=body,
                         headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_body_limit_is_exact(base_settings: Settings, signer: AzureKeyVaultSigner,
                             redis_url: str, accounts: list[str], chunked: bool) -> None:
    limit = 1000
    small = make_api(base_settings, signer, redis_url=redis_url, api_max_body_bytes=limit)
    server = make_server("127.0.0.1", 0, small.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for size in (limit + 1, limit + 5000):
            status, body = _post_raw(server.server_port, _sized_body(accounts[0], size),
                                     chunked)
            assert (status, body["error"]["code"]) == (413, "body_too_large"), size
        assert small.redis_keys() == set()
        status, body = _post_raw(server.server_port, _sized_body(accounts[0], limit), chunked)
        assert status == 202, body
        assert small.enqueued == [body["id"]]
    finally:
        server.shutdown()
        server.server_close()


def test_api_command_serves_and_stops_on_sigterm(emulator: ManagedProcess,
                                                 anvil: ManagedProcess,
                                                 redis_url: str) -> None:
    env = {**os.environ, **vault_env(emulator), "KVSIGNER_REDIS_URL": redis_url,
           "KVSIGNER_NODE_URL": str(anvil.extra["url"])}
    proc = subprocess.Popen([sys.executable, "-m", "ops.cli", "api", "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("kvsigner api listening on http://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())) == (200, {"status": "ok"})
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

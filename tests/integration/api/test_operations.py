"""The REST API's accounts, health, readiness and status endpoints, routing and error
handling, and the body limit and `kvsigner api` command over a real socket."""

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
from typing import Any

import pytest
from werkzeug.serving import make_server

from api import transactions
from ops.processes import ROOT, ManagedProcess, free_port
from tests.integration.api.helpers import TO, Api, error_code, make_api, transfer, vault_env
from worker.domain.records import Status
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner

pytestmark = pytest.mark.integration


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
    assert (resp.status_code, error_code(resp)) == (404, "not_found")
    resp = api.client.delete("/transactions")
    assert (resp.status_code, error_code(resp)) == (405, "method_not_allowed")
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_unexpected_error_is_generic(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("redis://:hunter2@db")

    monkeypatch.setattr(transactions, "list_page", boom)
    resp = api.client.get("/transactions")
    assert (resp.status_code, error_code(resp)) == (500, "internal_error")
    assert "hunter2" not in resp.get_data(as_text=True)


# --- over a real socket: body limits and the `kvsigner api` command -----------------------

def _sized_body(sender: str, size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes (padded through ``metadata``)."""
    bare = json.dumps(transfer(sender, metadata={"pad": ""})).encode()
    return json.dumps(transfer(sender, metadata={"pad": "a" * (size - len(bare))})).encode()


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

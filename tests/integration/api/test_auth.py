"""API keys at the API: the Flask app over the real Redis, anvil and the emulator-backed vault
signer (fixtures from this folder's conftest.py), and the ``kvsigner apikey`` command
against the real Redis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from api.app import create_app
from ops.processes import ROOT
from tests.integration.redis_trips import counted_trips
from worker.auth.keys import ApiKeyStore
from worker.services import Services
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner

pytestmark = pytest.mark.integration


class Api:
    """A test client of one app; ``enqueued`` collects the ids it hands to the queue."""

    def __init__(self, settings: Settings, signer: AzureKeyVaultSigner) -> None:
        self.services = Services(settings, signer=signer)
        self.enqueued: list[str] = []
        self.client: FlaskClient = create_app(self.services,
                                              self.enqueued.append).test_client()
        self.keys = ApiKeyStore(self.services.redis)

    def key(self, name: str, **options: Any) -> dict[str, str]:
        _, plaintext = self.keys.create(name, **options)
        return {"Authorization": f"Bearer {plaintext.reveal()}"}


@pytest.fixture
def make(base_settings: Settings, signer: AzureKeyVaultSigner,
         redis_url: str) -> Iterator[Any]:
    built: list[Api] = []

    def factory(**changes: Any) -> Api:
        api = Api(base_settings.replace(redis_url=redis_url, **changes), signer)
        built.append(api)
        return api

    yield factory
    for api in built:
        api.services.redis.close()


def tx(sender: str, to: str) -> dict[str, Any]:
    return {"from": sender, "to": to, "value": "1"}


def error(resp: Any) -> str:
    return str(resp.get_json()["error"]["code"])


def test_requests_without_a_valid_key_get_401(make: Any, accounts: list[str]) -> None:
    api = make()
    resp = api.client.get("/transactions")
    assert resp.status_code == 401 and error(resp) == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "kvsigner apikey create" in resp.get_json()["error"]["message"]  # no key yet
    good = api.key("ci")
    token = good["Authorization"].split()[1]
    wrong_secret = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": "Bearer nonsense"},
                    {"Authorization": f"Bearer {wrong_secret}"}):
        resp = api.client.post("/transactions", json=tx(accounts[0], accounts[1]),
                               headers=headers)
        assert (resp.status_code, error(resp)) == (401, "unauthorized"), headers
        assert token not in resp.get_data(as_text=True)
        assert wrong_secret not in resp.get_data(as_text=True)
    assert api.enqueued == []
    assert api.client.get("/nope").status_code == 401  # routes are not revealed either
    assert api.client.get("/transactions", headers=good).status_code == 200
    api.keys.revoke("ci")
    resp = api.client.get("/transactions", headers=good)
    assert (resp.status_code, error(resp)) == (401, "unauthorized")


def test_a_sender_limited_key_acts_only_for_its_senders(make: Any,
                                                        accounts: list[str]) -> None:
    api = make()
    payer = api.key("payer", senders=[accounts[0]])
    full = api.key("full")
    resp = api.client.post("/transactions", json=tx(accounts[1], accounts[0]), headers=payer)
    assert (resp.status_code, error(resp)) == (403, "forbidden")
    assert api.enqueued == []
    mine = api.client.post("/transactions", json=tx(accounts[0].lower(), accounts[1]),
                           headers=payer)
    assert mine.status_code == 202, mine.get_json()
    theirs = api.client.post("/transactions", json=tx(accounts[1], accounts[0]), headers=full)
    assert theirs.status_code == 202
    cancel = api.client.post(f"/transactions/{theirs.get_json()['id']}/cancel", headers=payer)
    assert (cancel.status_code, error(cancel)) == (403, "forbidden")
    # Listings stay unfiltered: they show what exists, they do not act.
    listed = api.client.get("/transactions", headers=payer).get_json()["transactions"]
    assert len(listed) == 2
    rpc = api.client.post("/rpc", headers=payer, json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_sign", "params": [accounts[1], "0x00"]})
    assert (rpc.status_code, error(rpc)) == (403, "forbidden")
    signed = api.client.post("/rpc", headers=payer, json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_sign", "params": [accounts[0], "0x00"]})
    assert signed.status_code == 200 and "result" in signed.get_json(), signed.get_json()


def test_a_read_only_key_reads_but_never_writes(make: Any, accounts: list[str]) -> None:
    api = make()
    reader = api.key("reader", read_only=True)
    assert api.client.get("/transactions", headers=reader).status_code == 200
    assert api.client.get("/accounts", headers=reader).status_code == 200
    resp = api.client.post("/transactions", json=tx(accounts[0], accounts[1]), headers=reader)
    assert (resp.status_code, error(resp)) == (403, "forbidden")
    assert api.client.post("/webhooks", json={"url": "https://example.com/h"},
                           headers=reader).status_code == 403
    assert api.enqueued == []
    chain = api.client.post("/rpc", headers=reader, json=[
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_accounts"}])
    assert chain.status_code == 200
    assert [r["result"] for r in chain.get_json()] == ["0x7a69", accounts]
    send = api.client.post("/rpc", headers=reader, json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
        "params": [tx(accounts[0], accounts[1])]})
    assert (send.status_code, error(send)) == (403, "forbidden")
    # /ws checks each message (tests/integration/test_rpc_ws.py); the handshake is allowed.
    assert api.client.get("/ws", headers=reader).status_code == 426
    full = api.key("full")
    assert api.client.get("/ws", headers=full).status_code == 426
    # The handshake takes the key from the header only, never from the URL.
    token = full["Authorization"].split()[1]
    assert api.client.get(f"/ws?token={token}").status_code == 401
    assert api.client.get(f"/ws?access_token={token}").status_code == 401


def test_rate_limit_is_shared_by_api_processes(make: Any) -> None:
    first = make(api_rate_limit=0.5, api_rate_burst=2)
    second = make(api_rate_limit=0.5, api_rate_burst=2)
    headers = first.key("busy")
    other = first.key("calm")
    assert first.client.get("/transactions", headers=headers).status_code == 200
    assert second.client.get("/transactions", headers=headers).status_code == 200
    resp = second.client.get("/transactions", headers=headers)
    assert (resp.status_code, error(resp)) == (429, "rate_limited")
    assert re.fullmatch(r"[1-9][0-9]*", resp.headers["Retry-After"])
    assert 1 <= int(resp.headers["Retry-After"]) <= 2
    assert first.client.get("/transactions", headers=headers).status_code == 429
    assert first.client.get("/transactions", headers=other).status_code == 200


def test_probes_and_the_document_are_open_and_status_is_not(make: Any) -> None:
    closed = make()
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert closed.client.get(path).status_code in (200, 503), path
    resp = closed.client.get("/status")
    assert (resp.status_code, error(resp)) == (401, "unauthorized")
    assert closed.client.get("/status", headers=closed.key("ops")).status_code == 200
    assert make(open_status=True).client.get("/status").status_code == 200
    assert make(auth="off").client.get("/transactions").status_code == 200


def test_request_ids_are_echoed_and_stored(make: Any, accounts: list[str]) -> None:
    api = make()
    headers = api.key("ci")
    resp = api.client.post("/transactions", json=tx(accounts[0], accounts[1]),
                           headers={**headers, "X-Request-Id": "order-42.retry_1"})
    assert resp.headers["X-Request-Id"] == "order-42.retry_1"
    record = api.services.store.get(resp.get_json()["id"])
    assert record is not None
    assert (record.request_id, record.api_key) == ("order-42.retry_1", "ci")
    for bad in ("x" * 65, "has space", "semi;colon", ""):
        got = api.client.get("/transactions", headers={**headers, "X-Request-Id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", got.headers["X-Request-Id"]), bad
    denied = api.client.get("/transactions", headers={"X-Request-Id": "no-key-1"})
    assert denied.status_code == 401 and denied.headers["X-Request-Id"] == "no-key-1"
    a = api.client.get("/healthz").headers["X-Request-Id"]
    b = api.client.get("/healthz").headers["X-Request-Id"]
    assert a != b


# --- the CLI -------------------------------------------------------------------------------

def cli(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KVSIGNER_REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "ops.cli", "apikey", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_known_key_costs_one_round_trip_and_its_revocation_counts_at_once(
        make: Any) -> None:
    api = make()
    auth = api.key("ci")
    trips = counted_trips(api.services.redis)
    assert api.client.get("/status", headers=auth).status_code == 200
    first, trips[:] = list(trips), []
    assert api.client.get("/status", headers=auth).status_code == 200
    # The key's record is read once per process; after that only the script that checks it
    # still exists and counts the request's rate.
    assert first.count("HGETALL") == 1 and "HGETALL" not in trips
    assert len(trips) == len(first) - 1
    assert api.keys.revoke("ci")
    resp = api.client.get("/status", headers=auth)
    assert resp.status_code == 401 and error(resp) == "unauthorized"


def test_apikey_command_creates_lists_and_revokes(redis_url: str, make: Any,
                                                  accounts: list[str]) -> None:
    created = cli(redis_url, "create", "deploy", "--sender", accounts[0], "--read-only")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"kvs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
    assert key not in created.stderr
    assert cli(redis_url, "create", "deploy").returncode == 1
    assert cli(redis_url, "create", "bad", "--sender", "0x12").returncode == 1
    listed = cli(redis_url, "list", "--json")
    assert listed.returncode == 0
    (entry,) = json.loads(listed.stdout)
    assert entry["name"] == "deploy" and entry["readOnly"] is True
    assert entry["senders"] == [accounts[0]]
    plain = cli(redis_url, "list")
    assert "deploy" in plain.stdout
    for out in (listed.stdout, plain.stdout):
        assert key not in out and key.split("_", 2)[2] not in out
    api = make()
    auth = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/transactions", headers=auth).status_code == 200
    revoked = cli(redis_url, "revoke", "deploy")
    assert revoked.returncode == 0, revoked.stderr
    assert api.client.get("/transactions", headers=auth).status_code == 401
    assert cli(redis_url, "revoke", "deploy").returncode == 1
    stored = redis.Redis.from_url(redis_url)
    assert stored.keys("kvsigner:apikey:*") == []  # nothing of the key is left behind
    stored.close()

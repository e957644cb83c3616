"""The audit log against a real stack: every signature the emulated vault made has exactly
one ``signed`` entry, with who asked, which key, and the resulting hash or signature. Also
``GET /audit`` parameter checks and ``kvsigner audit export`` against a real Redis."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from eth_account import Account
from eth_account.messages import encode_defunct

from api.app import create_app
from ops.audit_cmd import main as audit_main
from ops.devstack import DevStack
from ops.keyvault_emulator.admin import EmulatorAdmin
from ops.processes import free_port
from tests.integration.stack_helpers import use_stack, wait_terminal
from worker import context
from worker.audit import STREAM
from worker.services import Services
from worker.settings import Settings
from worker.signing.messages import sign_personal_message, sign_typed_data
from worker.store.records import RecordStore

pytestmark = pytest.mark.integration

TRANSACTIONS = 12
TYPED = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                   "Mail": [{"name": "body", "type": "string"}]},
         "primaryType": "Mail", "domain": {"name": "audit"}, "message": {"body": "hi"}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    dev = DevStack(tmp_path_factory.mktemp("audit-stack"), api_port=18380, workers=2, keys=3,
                   worker_concurrency=4, extra_env={"KVSIGNER_RECEIPT_POLL_SECONDS": "0.5"})
    use_stack(dev.start())
    yield dev
    dev.stop()


def session(info: dict[str, Any]) -> requests.Session:
    s = requests.Session()
    if info.get("apiKey"):
        s.headers["Authorization"] = f"Bearer {info['apiKey']}"
    return s


def all_entries(http: requests.Session, api: str, **params: str) -> list[dict[str, Any]]:
    """Every entry matching ``params``, newest first, following cursors."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "50", **({"cursor": cursor} if cursor else {})}
        resp = http.get(f"{api}/audit", params=query, timeout=30)
        assert resp.status_code == 200, resp.text
        out += resp.json()["entries"]
        cursor = resp.json()["nextCursor"]
        if cursor is None:
            return out


def test_every_vault_signature_has_exactly_one_signed_entry(stack: DevStack) -> None:
    info, http = stack.info, session(stack.info)
    api, accounts = info["api"], info["accounts"]
    admin = EmulatorAdmin(stack.env)
    admin.reset_stats()
    ids = []
    for i in range(TRANSACTIONS):
        resp = http.post(f"{api}/transactions", headers={"X-Request-Id": f"audit-{i}"},
                         json={"from": accounts[i % 3], "to": accounts[0], "value": str(i + 1)},
                         timeout=30)
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["id"])
    rpc = http.post(info["rpc"], headers={"X-Request-Id": "audit-rpc"}, timeout=30, json={
        "jsonrpc": "2.0", "id": 1, "method": "personal_sign", "params": ["0x6869", accounts[1]]})
    assert "result" in rpc.json(), rpc.text
    local = Services(Settings.from_env(stack.env))
    with context.bound(request_id="local-1", api_key="local", purpose="personal_sign"):
        local_sig = sign_personal_message(local.signer, accounts[2], "audited")
    with context.bound(purpose="typed_data"):
        sign_typed_data(local.signer, accounts[2], TYPED)
    local.close()
    done = wait_terminal(api, ids, 180)

    signs_ok = admin.stats()["signs_ok"]
    signed = all_entries(http, api, status="signed")
    assert signs_ok == len(signed) >= TRANSACTIONS + 3
    assert len({e["signingId"] for e in signed}) == len(signed)
    for entry in signed:
        assert entry["signature"] and entry["r"] and entry["s"] and entry["v"] in (27, 28)
        assert entry["keyName"] and entry["keyId"] and entry["keyVersion"] in entry["keyId"]
        assert len(entry["digest"]) == 66 and entry["process"] and entry["durationMs"] >= 0

    store = RecordStore(redis.Redis.from_url(info["redisUrl"]))
    for n, tx_id in enumerate(ids):
        rec, stored = done[tx_id], store.require(tx_id)
        assert rec["status"] == "confirmed", rec
        by_status = defaultdict(list)
        for entry in all_entries(http, api, txId=tx_id):
            by_status[entry["status"]].append(entry)
            assert entry["purpose"] == "transaction"
            assert entry["address"] == rec["from"] == accounts[n % 3]
            assert entry["requestId"] == rec["requestId"] == stored.request_id
            assert entry["apiKey"] == stored.api_key
        assert sorted(by_status) == ["requested", "result", "signed"]
        assert rec["requestId"] in (None, f"audit-{n}")
        assert [e["txHash"] for e in by_status["result"]] == rec["hashes"]
        assert rec["receipt"]["transactionHash"] in rec["hashes"]

    (rpc_entry,) = [e for e in signed if e["signature"] == rpc.json()["result"]]
    assert rpc_entry["requestId"] == "audit-rpc"
    assert rpc_entry["apiKey"] == ("dev" if info.get("apiKey") else None)
    (local_entry,) = [e for e in signed if e["signature"] == "0x" + local_sig.hex()]
    assert (local_entry["requestId"], local_entry["apiKey"]) == ("local-1", "local")
    assert local_entry["purpose"] == "personal_sign"
    assert Account.recover_message(encode_defunct(text="audited"),
                                   signature=local_sig) == accounts[2]
    assert len([e for e in signed if e["purpose"] == "typed_data"]) == 1

    text = http.get(f"{api}/metrics", timeout=30).text
    assert f'kvsigner_vault_sign_seconds_count{{outcome="ok"}} {float(signs_ok)}' in text
    confirmed = 'kvsigner_transaction_stage_seconds_count{stage="confirmed"} '
    assert float(text.split(confirmed, 1)[1].split()[0]) >= TRANSACTIONS


def test_export_prints_the_entries_oldest_first(stack: DevStack) -> None:
    info, http = stack.info, session(stack.info)
    sender = info["accounts"][1]
    resp = http.post(f"{info['api']}/transactions", json={"from": sender, "to": sender},
                     timeout=30)
    wait_terminal(info["api"], [resp.json()["id"]], 120)
    out, err = io.StringIO(), io.StringIO()
    assert audit_main(["export", "--address", sender.lower()], out, err, stack.env) == 0, \
        err.getvalue()
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    listed = all_entries(http, info["api"], address=sender)
    assert exported == list(reversed(listed))
    assert len(exported) >= 3 and {e["address"] for e in exported} == {sender}
    newest = exported[-1]["id"]
    out = io.StringIO()
    assert audit_main(["export", "--since", newest.split("-")[0]], out, err, stack.env) == 0
    assert newest in out.getvalue()
    assert audit_main(["export", "--since", "yesterday"], io.StringIO(), err, stack.env) == 1
    assert "invalid_field" in err.getvalue()


@pytest.mark.parametrize(("query", "code"), [
    ("limit=0", "invalid_field"), ("limit=501", "invalid_field"), ("sender=0x1", "invalid_field"),
    ("status=done", "invalid_field"), ("txId=xyz", "invalid_field"),
    ("since=2024-01-01", "invalid_field"), ("since=2000&until=1000", "invalid_field"),
    ("address=0x12", "invalid_address"), ("cursor=abc", "invalid_cursor"),
    ("key=k&key=j", "invalid_field"),
])
def test_audit_query_is_validated(redis_url: str, query: str, code: str) -> None:
    closed = free_port()
    app = create_app(Services(Settings(redis_url=redis_url, auth="off",
                                       node_url=f"http://127.0.0.1:{closed}")),
                     enqueue=lambda tx_id: None)
    resp = app.test_client().get(f"/audit?{query}")
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    ok = app.test_client().get("/audit?since=2024-01-01T00:00:00Z&limit=5")
    assert ok.status_code == 200 and ok.get_json() == {"entries": [], "nextCursor": None}
    assert not redis.Redis.from_url(redis_url).exists(STREAM)

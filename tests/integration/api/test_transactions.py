"""The REST API's transaction endpoints over a real Redis, a real anvil and the
emulator-backed vault signer. The API's contract with the workers is "saved, then handed to
``enqueue``": ``enqueue`` here records ids, and worker behaviour is tested elsewhere."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.api.helpers import TO, Api, error_code, make_api, transfer
from worker.domain.records import Status
from worker.setting_values import Secret
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner
from worker.webhooks.signing import generate_secret

pytestmark = pytest.mark.integration


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


def test_every_transaction_is_saved_open_for_the_webhook_sweep(
        base_settings: Settings, signer: AzureKeyVaultSigner, redis_url: str,
        accounts: list[str]) -> None:
    api = make_api(base_settings, signer, redis_url=redis_url, webhook_allow="loopback",
                   webhook_secret=Secret(generate_secret()))
    try:
        hooked = api.post(transfer(accounts[0], webhookUrl="http://127.0.0.1:9/hook"))
        plain = api.post(transfer(accounts[0]))
        assert hooked.status_code == plain.status_code == 202, hooked.get_json()
        # With its own URL or without (a subscription may want its events).
        assert api.redis.smembers("kvsigner:wh:open") == {
            r.get_json()["id"].encode() for r in (hooked, plain)}
    finally:
        api.redis.close()


def test_utf8_charset_parameter_is_accepted(api: Api, accounts: list[str]) -> None:
    resp = api.client.post("/transactions", data=json.dumps(transfer(accounts[0])),
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
    assert (resp.status_code, error_code(resp)) == (404, "not_found")

    def no_redis(tx_id: str) -> None:
        raise AssertionError("Redis was asked for a malformed id")

    monkeypatch.setattr(api.services.store, "get", no_redis)
    for bad in ("abc", "A" * 32, "a" * 33, "g" * 32, "..%2f" + "a" * 28):
        resp = api.client.get(f"/transactions/{bad}")
        assert (resp.status_code, error_code(resp)) == (404, "not_found"), bad


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
    assert (resp.status_code, error_code(resp)) == (400, code)


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
    assert (conflict.status_code, error_code(conflict)) == (409, "idempotency_conflict")
    assert api.redis_keys() == keys
    assert api.enqueued == [first.get_json()["id"]]


# --- bad input: the right code, nothing stored, nothing enqueued ---------------------------

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
    ("text/plain", lambda a: {"data": json.dumps(transfer(a[0])), "content_type": "text/plain"},
     415, "unsupported_media_type"),
    ("form body", {"data": {"from": "x"}}, 415, "unsupported_media_type"),
    ("no content type", lambda a: {"data": json.dumps(transfer(a[0]))}, 415,
     "unsupported_media_type"),
    ("latin-1 JSON", lambda a: {"data": json.dumps(transfer(a[0])),
                                "content_type": "application/json; charset=latin-1"},
     415, "unsupported_media_type"),
    ("oversized", lambda a: {"json": transfer(a[0], metadata={"x": "a" * 200_000})}, 413,
     "body_too_large"),
    ("invalid address", lambda a: {"json": transfer(a[0], to="0x1234")}, 400, "invalid_address"),
    ("bad checksum", lambda a: {"json": transfer(a[0][:2] + a[0][2:].swapcase())}, 400,
     "invalid_address"),
    ("not a vault account", {"json": transfer("0x" + "11" * 20)}, 400, "unknown_account"),
    ("non-hex data", lambda a: {"json": transfer(a[0], data="0xzz")}, 400, "invalid_field"),
    ("negative value", lambda a: {"json": transfer(a[0], value=-1)}, 400, "invalid_field"),
    ("value over 2^256-1", lambda a: {"json": transfer(a[0], value=str(2**256))}, 400,
     "invalid_field"),
    ("gasPrice and maxFeePerGas", lambda a: {"json": transfer(
        a[0], gasPrice=1, maxFeePerGas=2, maxPriorityFeePerGas=1)}, 400, "fee_conflict"),
    ("priority above max", lambda a: {"json": transfer(
        a[0], maxFeePerGas=1, maxPriorityFeePerGas=2)}, 400, "fee_conflict"),
    ("wrong chain id", lambda a: {"json": transfer(a[0], chainId=1)}, 400, "wrong_chain"),
    ("nonce given", lambda a: {"json": transfer(a[0], nonce=1)}, 400, "invalid_field"),
    ("unknown field", lambda a: {"json": transfer(a[0], gasLimit=1)}, 400, "invalid_field"),
    ("Idempotency-Key too long", lambda a: {"json": transfer(a[0]),
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
    assert (resp.status_code, error_code(resp)) == (status, code)
    assert resp.get_json()["error"]["message"]
    assert api.redis_keys() == before
    assert not any(k.startswith((b"kvsigner:tx:", b"kvsigner:idx")) for k in api.redis_keys())
    assert api.enqueued == []

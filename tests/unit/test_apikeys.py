"""API keys: the store (against fakeredis and the real Redis), the CLI's output, and the
permission rules of ``worker.auth.policy``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
import redis

from ops import apikey_cmd
from worker.auth import keys as keys_module
from worker.auth import policy
from worker.auth.keys import KEY_RE, ApiKey, ApiKeyError, ApiKeyStore, hash_key
from worker.domain.errors import KvsignerError

ALICE = "0x52908400098527886E0F7030069857D2E4169EE7"
BOB = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"


@pytest.fixture(params=["fake", "real"])
def client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    if request.param == "fake":
        fake = fakeredis.FakeRedis()
        yield fake
        fake.close()
        return
    real = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield real
    real.close()


@pytest.fixture
def store(client: redis.Redis) -> ApiKeyStore:
    return ApiKeyStore(client)


def everything_in(client: redis.Redis) -> str:
    """Every key and value in Redis, as one string to search."""
    out = []
    for k in client.scan_iter("*"):
        out.append(k.decode())
        kind = client.type(k).decode()
        if kind == "hash":
            out += [f"{a.decode()}={b.decode()}" for a, b in client.hgetall(k).items()]
        elif kind == "string":
            out.append(client.get(k).decode())  # type: ignore[union-attr]
    return "\n".join(out)


def test_created_key_is_stored_only_as_its_hash(store: ApiKeyStore,
                                                client: redis.Redis) -> None:
    key, plaintext = store.create("ci")
    secret = plaintext.reveal()
    match = KEY_RE.match(secret)
    assert match is not None and match.group(1) == key.key_id
    stored = everything_in(client)
    assert secret not in stored and match.group(2) not in stored
    assert hash_key(secret) in stored
    assert secret not in repr(plaintext) and secret not in repr(key)


def test_verify_accepts_only_the_exact_live_key(store: ApiKeyStore) -> None:
    key, plaintext = store.create("ci")
    secret = plaintext.reveal()
    assert store.verify(secret) == key
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert store.verify(flipped) is None  # same id, wrong secret
    assert store.verify("kvs_" + "0" * 12 + "_" + "a" * 43) is None  # unknown id
    for junk in ("", "Bearer x", secret + "x", secret.replace("kvs_", "kv_")):
        assert store.verify(junk) is None
    assert store.revoke("ci") is True
    assert store.verify(secret) is None
    assert store.revoke("ci") is False


def test_secret_is_compared_in_constant_time(store: ApiKeyStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _, plaintext = store.create("ci")
    calls: list[tuple[Any, Any]] = []
    real = keys_module.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert store.verify(plaintext.reveal()) is not None
    assert store.verify(plaintext.reveal()[:-2] + "zz") is None
    assert len(calls) == 2


def test_names_are_unique_and_plain(store: ApiKeyStore) -> None:
    store.create("ci")
    with pytest.raises(ApiKeyError, match="exists already"):
        store.create("ci")
    for bad in ("", "has space", "-lead", "x" * 65, "naïve"):
        with pytest.raises(ApiKeyError):
            store.create(bad)
    assert [k.name for k in store.list()] == ["ci"]


def test_read_only_and_senders_are_kept(store: ApiKeyStore) -> None:
    store.create("reader", read_only=True)
    _, plaintext = store.create("payer", senders=[ALICE.lower(), ALICE, BOB])
    with pytest.raises(ApiKeyError, match="not an address"):
        store.create("typo", senders=["0x1234"])
    by_name = {k.name: k for k in store.list()}
    assert by_name["reader"].read_only and not by_name["reader"].senders
    payer = store.verify(plaintext.reveal())
    assert payer is not None and payer.senders == (ALICE, BOB) and not payer.read_only
    assert payer.allows_sender(ALICE.lower()) and not payer.allows_sender("0x" + "11" * 20)
    assert by_name["reader"].allows_sender("0x" + "11" * 20)


def test_list_is_oldest_first(client: redis.Redis) -> None:
    ticks = iter([30.0, 10.0, 20.0])
    store = ApiKeyStore(client, clock=lambda: next(ticks))
    for name in ("c", "a", "b"):
        store.create(name)
    assert [k.name for k in store.list()] == ["a", "b", "c"]
    assert store.any()


# --- the CLI's output ------------------------------------------------------------------------

def _run(store: ApiKeyStore, *argv: str) -> int:
    args: argparse.Namespace = apikey_cmd._parser().parse_args(list(argv))
    return apikey_cmd.run(store, args)


def test_cli_prints_the_key_once_and_never_lists_it(store: ApiKeyStore,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(store, "create", "ci", "--sender", ALICE, "--read-only") == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert KEY_RE.match(secret) and secret not in err and "only now" in err
    assert _run(store, "create", "ci") == 1
    assert "exists already" in capsys.readouterr().err
    assert _run(store, "list") == 0
    listing = capsys.readouterr().out
    assert "ci" in listing and ALICE in listing and "read-only" in listing
    assert _run(store, "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "ci" and listed[0]["readOnly"] is True
    assert listed[0]["senders"] == [ALICE]
    for text in (listing, json.dumps(listed)):
        assert secret not in text and secret.split("_", 2)[2] not in text
        assert hash_key(secret) not in text
    assert _run(store, "revoke", "ci") == 0
    assert _run(store, "revoke", "ci") == 1
    assert store.verify(secret) is None


# --- policy ----------------------------------------------------------------------------------

def _key(**kw: Any) -> ApiKey:
    return ApiKey("0123456789ab", kw.pop("name", "k"), 0.0, **kw)


def test_check_sender_allowed_follows_the_bound_key() -> None:
    policy.check_sender_allowed(BOB)  # no key bound: not on an API request
    token = policy.current_key.set(_key(senders=(ALICE,)))
    try:
        policy.check_sender_allowed(ALICE.lower())
        with pytest.raises(KvsignerError) as info:
            policy.check_sender_allowed(BOB)
        assert info.value.code == "forbidden" and info.value.http_status == 403
    finally:
        policy.current_key.reset(token)
    policy.check_sender_allowed(BOB)


def _req(method: str, *params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}


def test_read_only_keys_may_send_read_methods_only() -> None:
    reader = _key(read_only=True)
    for method in ("eth_getBalance", "eth_call", "eth_chainId", "eth_accounts",
                   "eth_subscribe", "net_version"):
        assert policy.rpc_refusal(reader, _req(method)) is None, method
    for method in ("eth_sendTransaction", "eth_sendRawTransaction", "eth_sign",
                   "personal_sign", "eth_signTypedData_v4", "anvil_setBalance"):
        assert policy.rpc_refusal(reader, _req(method)) is not None, method
    batch = [_req("eth_chainId"), _req("eth_sendRawTransaction", "0x00")]
    assert policy.rpc_refusal(reader, batch) is not None
    assert policy.rpc_refusal(reader, ["junk", {"method": 5}]) is None  # left to dispatch
    assert policy.rpc_refusal(_key(), _req("eth_sendRawTransaction", "0x00")) is None


def test_sender_limited_keys_sign_only_for_their_accounts() -> None:
    payer = _key(senders=(ALICE,))
    ok = [_req("eth_sendTransaction", {"from": ALICE.lower(), "to": BOB}),
          _req("eth_signTransaction", {"from": ALICE}), _req("eth_sign", ALICE, "0x00"),
          _req("personal_sign", "0x00", ALICE), _req("eth_signTypedData_v4", ALICE, {}),
          _req("eth_getBalance", BOB, "latest")]
    for request in ok:
        assert policy.rpc_refusal(payer, request) is None, request
    refused = [_req("eth_sendTransaction", {"from": BOB}), _req("eth_sign", BOB, "0x00"),
               _req("personal_sign", "0x00", BOB), _req("eth_signTypedData", BOB, {}),
               _req("eth_sendTransaction"), _req("personal_sign", "0x00"),
               _req("eth_signTransaction", [ALICE])]
    for request in refused:
        assert policy.rpc_refusal(payer, request) is not None, request

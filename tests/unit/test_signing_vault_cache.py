"""AzureKeyVaultSigner's account cache and discovery rules, with the vault faked out.

The real SDK against the emulator is covered in tests/integration/test_signer.py; here a
fake KeyClient/CryptographyClient lets us test refresh timing, stale-cache behaviour and
key filtering without a network.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyCurveName, KeyType, KeyVaultKey
from azure.keyvault.keys._generated.models import JsonWebKeyCurveName, JsonWebKeyType
from eth_keys import keys

from worker.domain.errors import ValidationError, VaultError
from worker.settings import Settings
from worker.signing import azure_key_vault
from worker.signing.azure_key_vault import FAILED_REFRESH_DELAY, AzureKeyVaultSigner
from worker.signing.discovery import (
    discover,
    parse_tag_filter,
    signing_algorithm,
    tag_matches,
)
from worker.signing.secp256k1 import N, is_low_s

VAULT = "https://vault.example"
KEYS = {name: keys.PrivateKey(bytes([i + 1]) * 32) for i, name in enumerate(["a", "b", "c"])}


def vault_key(name: str, version: str = "v1", *, material: str | None = None,
              enabled: bool = True, crv: str = "P-256K", kty: str = "EC-HSM",
              tags: dict[str, str] | None = None) -> KeyVaultKey:
    public = KEYS[material or name].public_key.to_bytes()
    attributes = SimpleNamespace(enabled=enabled, not_before=None, expires=None, created=None,
                                 updated=None, recovery_level=None, recoverable_days=None,
                                 exportable=None, hsm_platform=None, attestation=None)
    return KeyVaultKey(f"{VAULT}/keys/{name}/{version}", attributes=attributes, tags=tags,
                       kty=kty, crv=crv, x=public[:32], y=public[32:], key_ops=["sign"])


class FakeKeyClient:
    """Lists ``vault``; keys named in ``vanished`` are listed but 404 on GET."""

    def __init__(self, vault: dict[str, KeyVaultKey], vanished: tuple[str, ...] = ()) -> None:
        self.vault = vault
        self.vanished = vanished
        self.gets = 0

    def list_properties_of_keys(self) -> list[Any]:
        return [k.properties for k in self.vault.values()]

    def get_key(self, name: str) -> KeyVaultKey:
        self.gets += 1
        if name in self.vanished:
            raise http_error(404, "KeyNotFound", cls=ResourceNotFoundError)
        return self.vault[name]


class FakeCrypto:
    """Signs like the vault: random-looking but valid, and always high S."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: Exception | None = None
        self.calls = 0

    def sign(self, algorithm: str, digest: bytes) -> Any:
        self.calls += 1
        if self.error is not None:
            raise self.error
        sig = KEYS[self.name].sign_msg_hash(digest)
        raw = sig.r.to_bytes(32, "big") + (N - sig.s).to_bytes(32, "big")
        return SimpleNamespace(signature=raw, algorithm=algorithm)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Any:
    vault = {n: vault_key(n) for n in ("a", "b")}
    fake = FakeKeyClient(vault)
    calls: dict[str, Any] = {"discover": 0, "done": 0}
    real_discover = azure_key_vault.discover

    def counting_discover(client: Any, tag: str | None, redact: tuple[str, ...]) -> Any:
        calls["discover"] += 1
        try:
            gate = calls.get("gate")
            if gate is not None:
                assert gate.wait(10), "the test never opened the gate"
            failure = calls.get("fail")
            if isinstance(failure, Exception):
                raise failure
            return real_discover(fake, tag, redact)  # type: ignore[arg-type]
        finally:
            calls["done"] += 1

    cryptos: dict[str, FakeCrypto] = {}

    def crypto_client(self: AzureKeyVaultSigner, item: Any) -> FakeCrypto:
        cryptos[item.key.id] = FakeCrypto(item.key.name)
        return cryptos[item.key.id]

    monkeypatch.setattr(azure_key_vault, "discover", counting_discover)
    monkeypatch.setattr(AzureKeyVaultSigner, "_crypto_client", crypto_client)
    clock = Clock()
    settings = Settings(vault_url=VAULT, vault_refresh_seconds=60)
    signer = AzureKeyVaultSigner(settings, credential=object(), clock=clock)  # type: ignore[arg-type]
    return SimpleNamespace(signer=signer, vault=vault, calls=calls, clock=clock, cryptos=cryptos)


def addr(name: str) -> str:
    return KEYS[name].public_key.to_checksum_address()


def http_error(status: int, code: str, inner: str | None = None,
               cls: type[HttpResponseError] = HttpResponseError) -> HttpResponseError:
    error: dict[str, Any] = {"code": code, "message": "no"}
    if inner:
        error["innererror"] = {"code": inner}
    body = json.dumps({"error": error})
    response = SimpleNamespace(status_code=status, reason=code, headers={},
                               text=lambda encoding=None: body)
    return cls(response=response)


def listing(calls: dict[str, Any], count: int) -> None:
    """Wait until the ``count``-th discovery has begun (a refresh runs in its own thread)."""
    deadline = time.monotonic() + 10
    while calls["discover"] < count:
        assert time.monotonic() < deadline, f"{calls['discover']} discoveries, not {count}"
        time.sleep(0.005)


def finished(calls: dict[str, Any], count: int) -> None:
    """Wait until ``count`` discoveries have ended and no refresh thread is left."""
    deadline = time.monotonic() + 10
    while calls["done"] < count or any(
            t.name == "kvsigner-vault-refresh" for t in threading.enumerate()):
        assert time.monotonic() < deadline, f"{calls['done']} discoveries ended, not {count}"
        time.sleep(0.005)


def test_lazy_discovery_and_periodic_refresh(setup: Any) -> None:
    assert setup.calls["discover"] == 0  # constructing makes no call
    assert [a.address for a in setup.signer.accounts()] == [addr("a"), addr("b")]
    setup.signer.accounts()
    setup.signer.sign_digest(addr("a"), b"\x01" * 32)
    assert setup.calls["discover"] == 1  # cached: no fetch per access or per signature
    setup.vault["c"] = vault_key("c")
    setup.clock.now += 61
    setup.signer.accounts()
    finished(setup.calls, 2)
    assert setup.calls["discover"] == 2
    assert [a.key_name for a in setup.signer.accounts()] == ["a", "b", "c"]


def test_a_due_refresh_never_holds_up_the_caller(setup: Any) -> None:
    setup.signer.accounts()
    setup.vault["c"] = vault_key("c")
    setup.calls["gate"] = gate = threading.Event()  # the vault's listing hangs
    setup.clock.now += 61
    # Every caller, the one that started the reload included, answers from the cache.
    assert [a.key_name for a in setup.signer.accounts()] == ["a", "b"]
    listing(setup.calls, 2)
    for _ in range(3):
        assert [a.key_name for a in setup.signer.accounts()] == ["a", "b"]
        setup.signer.sign_digest(addr("b"), b"\x02" * 32)
    assert setup.calls["discover"] == 2  # one reload at a time
    gate.set()
    finished(setup.calls, 2)
    assert [a.key_name for a in setup.signer.accounts()] == ["a", "b", "c"]
    assert setup.calls["discover"] == 2


def test_a_refusal_during_a_refresh_is_not_forgotten(setup: Any) -> None:
    setup.signer.accounts()
    setup.calls["gate"] = gate = threading.Event()
    setup.clock.now += 61
    setup.signer.accounts()  # a background reload starts and hangs in the listing
    listing(setup.calls, 2)
    setup.cryptos[f"{VAULT}/keys/a/v1"].error = http_error(403, "Forbidden", "KeyDisabled")
    setup.vault["a"] = vault_key("a", enabled=False)
    with pytest.raises(VaultError):
        setup.signer.sign_digest(addr("a"), b"\x01" * 32)
    gate.set()
    finished(setup.calls, 2)
    # That listing may have begun before the key was disabled: the next access reloads
    # again, in the caller's thread, before it answers.
    assert [a.key_name for a in setup.signer.accounts()] == ["b"]
    assert setup.calls["discover"] == 3


def test_an_unexpected_refresh_error_is_logged_and_the_cache_kept(
        setup: Any, caplog: pytest.LogCaptureFixture) -> None:
    setup.signer.accounts()
    setup.calls["fail"] = RuntimeError("listing broke")
    setup.clock.now += 61
    with caplog.at_level(logging.ERROR, logger=azure_key_vault.__name__):
        assert len(setup.signer.accounts()) == 2
        finished(setup.calls, 2)
    assert "vault key refresh failed, keeping 2 cached accounts" in caplog.text
    assert len(setup.signer.accounts()) == 2
    assert setup.calls["discover"] == 2  # not retried on every access
    del setup.calls["fail"]
    setup.clock.now += FAILED_REFRESH_DELAY + 1
    setup.signer.accounts()
    finished(setup.calls, 3)
    assert setup.calls["discover"] == 3


def test_sign_digest_normalises_and_checks(setup: Any) -> None:
    sig = setup.signer.sign_digest(addr("b").lower(), b"\x07" * 32)
    expected = KEYS["b"].sign_msg_hash(b"\x07" * 32)
    assert is_low_s(sig.s)
    assert (sig.r, sig.s, sig.recid) == (expected.r, expected.s, expected.v)


@pytest.mark.parametrize("digest", [b"", b"\x01" * 31, b"\x01" * 33, "00" * 32])
def test_digest_must_be_32_bytes(setup: Any, digest: Any) -> None:
    with pytest.raises(ValidationError) as info:
        setup.signer.sign_digest(addr("a"), digest)
    assert info.value.code == "invalid_field"


def test_unknown_and_malformed_addresses(setup: Any) -> None:
    with pytest.raises(ValidationError) as info:
        setup.signer.account("0x" + "12" * 20)
    assert info.value.code == "unknown_account"
    with pytest.raises(ValidationError) as info:
        setup.signer.sign_digest("0x1234", b"\x01" * 32)
    assert info.value.code == "invalid_address"


def test_failed_refresh_keeps_serving_cached_accounts(setup: Any) -> None:
    setup.signer.accounts()
    setup.calls["fail"] = VaultError("vault_unavailable", "down")
    setup.clock.now += 61
    assert len(setup.signer.accounts()) == 2
    finished(setup.calls, 2)
    assert setup.calls["discover"] == 2
    setup.signer.accounts()
    assert setup.calls["discover"] == 2  # not retried on every access
    setup.clock.now += FAILED_REFRESH_DELAY + 1
    setup.signer.accounts()
    finished(setup.calls, 3)
    assert setup.calls["discover"] == 3


def test_first_discovery_failure_is_raised(setup: Any) -> None:
    setup.calls["fail"] = VaultError("vault_auth_failed", "bad secret")
    with pytest.raises(VaultError) as info:
        setup.signer.accounts()
    assert info.value.code == "vault_auth_failed"


def test_disabled_key_marks_cache_stale(setup: Any) -> None:
    setup.signer.accounts()
    crypto = setup.cryptos[f"{VAULT}/keys/a/v1"]
    crypto.error = http_error(403, "Forbidden", "KeyDisabled")
    with pytest.raises(VaultError) as info:
        setup.signer.sign_digest(addr("a"), b"\x01" * 32)
    assert info.value.code == "vault_key_disabled"
    assert crypto.calls == 1  # no retries
    setup.vault["a"] = vault_key("a", enabled=False)
    with pytest.raises(VaultError) as info:
        setup.signer.sign_digest(addr("a"), b"\x01" * 32)
    assert info.value.code == "vault_key_disabled"
    assert setup.calls["discover"] == 2
    assert crypto.calls == 1  # the refreshed cache answered without calling the vault
    assert [a.key_name for a in setup.signer.accounts()] == ["b"]
    assert [(a.key_name, a.enabled) for a in setup.signer.all_accounts()] == [
        ("a", False), ("b", True)]


def test_refresh_keeps_clients_of_unchanged_keys(setup: Any) -> None:
    setup.signer.accounts()
    before = dict(setup.cryptos)
    setup.vault["b"] = vault_key("b", "v2")
    setup.signer.refresh()
    assert set(setup.cryptos) == set(before) | {f"{VAULT}/keys/b/v2"}
    account = setup.signer.account(addr("b"))
    assert (account.key_version, account.key_id) == ("v2", f"{VAULT}/keys/b/v2")


def test_discovery_filters_curves_types_and_tags() -> None:
    eth = {"use": "eth"}
    vault = {
        "a": vault_key("a", tags=eth),
        "legacy": vault_key("legacy", material="b", crv="SECP256K1", kty="EC", tags=eth),
        "p256": vault_key("p256", material="c", crv="P-256", tags=eth),
        "rsa": vault_key("rsa", material="c", kty="RSA", tags=eth),
        "untagged": vault_key("untagged", material="c", tags={"use": "other"}),
        "gone": vault_key("gone", material="c", tags=eth),
    }
    client = FakeKeyClient(vault, vanished=("gone",))
    found = discover(client, "use=eth")  # type: ignore[arg-type]
    assert [(d.account.key_name, d.account.address, d.algorithm) for d in found] == [
        ("a", addr("a"), "ES256K"), ("legacy", addr("b"), "ECDSA256")]
    assert [d.account.key_name for d in discover(client, None)] == [  # type: ignore[arg-type]
        "a", "legacy", "untagged"]


def test_duplicate_key_material_yields_one_account() -> None:
    client = FakeKeyClient({"a": vault_key("a"), "z": vault_key("z", "v9", material="a")})
    found = discover(client)  # type: ignore[arg-type]
    assert [d.account.key_name for d in found] == ["a"]


@pytest.mark.parametrize(("spec", "tags", "matches"), [
    (None, None, True),
    ("", {"x": "1"}, True),
    ("eth", {"eth": ""}, True),
    ("eth", {"other": "1"}, False),
    ("eth=1", {"eth": "1"}, True),
    ("eth=1", {"eth": "2"}, False),
    ("eth=", {"eth": ""}, True),
])
def test_tag_filter(spec: str | None, tags: dict[str, str] | None, matches: bool) -> None:
    assert tag_matches(tags, parse_tag_filter(spec)) is matches


@pytest.mark.parametrize(("kty", "crv", "alg"), [
    ("EC", "P-256K", "ES256K"), ("EC-HSM", "P-256K", "ES256K"),
    ("EC-HSM", "SECP256K1", "ECDSA256"), ("EC", "P-256", None), ("RSA", "P-256K", None),
    ("oct-HSM", None, None),
    # The SDK returns (str, Enum) members, whose str() is not their value.
    (KeyType.ec_hsm, KeyCurveName.p_256_k, "ES256K"),
    (JsonWebKeyType.EC_HSM, JsonWebKeyCurveName.P256_K, "ES256K"),
    (JsonWebKeyType.EC, JsonWebKeyCurveName.P256, None),
])
def test_signing_algorithm(kty: object, crv: object, alg: str | None) -> None:
    assert signing_algorithm(kty, crv) == alg


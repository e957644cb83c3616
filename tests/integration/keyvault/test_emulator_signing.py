"""The Key Vault emulator's signing, fault injection and restarts, driven by the real Azure
SDK. Tests that need start-up flags or a restart run their own instance under ``tmp_path``.
"""


import hashlib
import time
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import (
    HttpResponseError,
)
from azure.keyvault.keys import JsonWebKey
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.exceptions import InvalidSignature
from eth_account import Account

from ops.keyvault_emulator.admin import EmulatorAdmin, EmulatorAdminError
from ops.processes import start_emulator
from tests.integration.keyvault.helpers import (
    ES256K,
    N,
    Vault,
    connect,
    digest_of,
    error_body,
    high_s,
    jwk,
    reply_headers,
    unique,
    verify_rs,
)

pytestmark = pytest.mark.integration


# --- signing ------------------------------------------------------------------------------

def test_sign_es256k_verifies_against_the_jwk(vault: Vault) -> None:
    key = vault.keys.get_key("kvsigner-1")
    crypto = vault.crypto(key)
    for i in range(5):
        result = crypto.sign(ES256K, digest_of(i))
        assert result.key_id == key.id and len(result.signature) == 64
        verify_rs(key, digest_of(i), result.signature)
        assert crypto.verify(ES256K, digest_of(i), result.signature).is_valid
    with pytest.raises(InvalidSignature):
        verify_rs(key, digest_of(99), crypto.sign(ES256K, digest_of(0)).signature)


def test_versionless_crypto_client_signs_with_latest(vault: Vault) -> None:
    key = vault.keys.get_key("kvsigner-2")
    versionless = key.id.rsplit("/", 1)[0]
    crypto = CryptographyClient(versionless, vault.credential, verify_challenge_resource=False,
                                connection_verify=vault.ca)
    result = crypto.sign(ES256K, digest_of(7))
    verify_rs(key, digest_of(7), result.signature)


def test_bad_digest_length_is_bad_parameter(vault: Vault) -> None:
    crypto = vault.crypto(vault.keys.get_key("kvsigner-1"))
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, b"\x01" * 31)
    assert info.value.status_code == 400
    assert error_body(info.value)["code"] == "BadParameter"


def test_malformed_json_is_bad_parameter(vault: Vault) -> None:
    reply = requests.post(f"{vault.url}/keys/kvsigner-1//sign?api-version=7.4",
                          data=b'{"alg": "ES256K", "value": ', verify=vault.ca, timeout=10,
                          headers={"Authorization": f"Bearer {vault.token()}",
                                   "Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "BadParameter"


def test_algorithm_must_match_the_curve(vault: Vault) -> None:
    modern = vault.crypto(vault.keys.get_key("kvsigner-1"))
    with pytest.raises(HttpResponseError) as info:
        modern.sign(SignatureAlgorithm.es256, digest_of(1))
    assert info.value.status_code == 400
    legacy_key = vault.keys.create_ec_key(unique("legacy"), curve="SECP256K1")
    assert jwk(legacy_key).crv == "SECP256K1"
    legacy = vault.crypto(legacy_key)
    with pytest.raises(HttpResponseError) as info:
        legacy.sign(ES256K, digest_of(1))
    assert info.value.status_code == 400
    assert error_body(info.value)["code"] == "BadParameter"
    result = legacy.sign("ECDSA256", digest_of(1))  # type: ignore[arg-type]
    verify_rs(legacy_key, digest_of(1), result.signature)


def test_high_s_about_half_the_time_and_always_when_asked(vault: Vault,
                                                          faults: EmulatorAdmin) -> None:
    key = vault.keys.get_key("kvsigner-1")
    crypto = vault.crypto(key)
    sigs = [crypto.sign(ES256K, digest_of(i)).signature for i in range(60)]
    highs = sum(high_s(s) for s in sigs)
    assert 10 <= highs <= 50  # binomial(60, 1/2): outside this range ~1e-7
    faults.configure(high_s="always")
    for i in range(20):
        signature = crypto.sign(ES256K, digest_of(i)).signature
        assert high_s(signature)
        verify_rs(key, digest_of(i), signature)


def test_random_nonces_differ(vault: Vault) -> None:
    crypto = vault.crypto(vault.keys.get_key("kvsigner-1"))
    assert crypto.sign(ES256K, digest_of(5)).signature != \
        crypto.sign(ES256K, digest_of(5)).signature


def test_deterministic_signatures_match_eth_account(vault: Vault, faults: EmulatorAdmin) -> None:
    account = Account.from_key(hashlib.sha256(b"kvsigner emulator test key").digest())
    secret = bytes(account.key)
    key = vault.keys.import_key(unique("det"), JsonWebKey(kty="EC", crv="P-256K", d=secret))
    crypto = vault.crypto(key)
    faults.configure(deterministic=True)
    highs = 0
    for i in range(16):
        digest = digest_of(i)
        signature = crypto.sign(ES256K, digest).signature
        assert crypto.sign(ES256K, digest).signature == signature  # stable
        verify_rs(key, digest, signature)
        highs += high_s(signature)
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        s = min(s, N - s)
        expected = Account.unsafe_sign_hash(digest, secret)
        assert (r, s) == (expected.r, expected.s)
    assert 0 < highs < 16
    faults.configure(high_s="always")
    assert all(high_s(crypto.sign(ES256K, digest_of(i)).signature) for i in range(8))


# --- faults ---------------------------------------------------------------------------------

def test_quota_throttles_with_and_without_retry_after(vault: Vault,
                                                      faults: EmulatorAdmin) -> None:
    key = vault.keys.get_key("kvsigner-3")
    crypto = vault.crypto(key, retry_total=0)
    crypto.sign(ES256K, digest_of(0))  # challenge and token out of the way
    vault.admin.reset_stats()
    faults.configure(quota=3, quota_window_seconds=60, retry_after_ratio=0.0)
    for i in range(3):
        crypto.sign(ES256K, digest_of(i))
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(9))
    assert info.value.status_code == 429
    assert "Retry-After" not in reply_headers(info.value)
    assert error_body(info.value)["code"] == "Throttled"
    faults.configure(retry_after_ratio=1.0)
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(9))
    retry_after = int(reply_headers(info.value)["Retry-After"])
    assert 1 <= retry_after <= 60
    # GETs count against the same quota.
    with pytest.raises(HttpResponseError) as info:
        vault.keys.get_key("kvsigner-3", retry_total=0)
    assert info.value.status_code == 429
    stats = vault.admin.stats()
    assert stats["signs_ok"] == 3 and stats["signs_throttled"] == 2
    assert stats["throttled"] == 3


def test_injected_throttling_and_server_errors(vault: Vault, faults: EmulatorAdmin) -> None:
    crypto = vault.crypto(vault.keys.get_key("kvsigner-3"), retry_total=0)
    crypto.sign(ES256K, digest_of(0))
    faults.configure(throttle_rate=1.0, retry_after_ratio=1.0)
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(1))
    assert info.value.status_code == 429
    assert reply_headers(info.value)["Retry-After"] == "1"
    faults.configure(throttle_rate=0.0, fail_rate=1.0, fail_status=503)
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(1))
    assert info.value.status_code == 503
    assert error_body(info.value)["code"] == "ServiceUnavailable"
    faults.configure(fail_status=500)
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(1))
    assert info.value.status_code == 500
    faults.configure(fail_rate=0.0)
    crypto.sign(ES256K, digest_of(1))


def test_latency_is_added_to_signs(vault: Vault, faults: EmulatorAdmin) -> None:
    crypto = vault.crypto(vault.keys.get_key("kvsigner-2"))
    crypto.sign(ES256K, digest_of(0))
    faults.configure(latency_ms=120)
    started = time.perf_counter()
    crypto.sign(ES256K, digest_of(1))
    assert time.perf_counter() - started >= 0.12


def test_admin_validates_input_and_needs_its_token(vault: Vault) -> None:
    with pytest.raises(EmulatorAdminError) as info:
        vault.admin.configure(no_such_field=1)
    assert info.value.status == 400
    with pytest.raises(EmulatorAdminError):
        vault.admin.configure(fail_rate=2)
    with pytest.raises(EmulatorAdminError):
        vault.admin.configure(high_s="sometimes")
    intruder = EmulatorAdmin({**vault.env, "KVSIGNER_EMULATOR_ADMIN_TOKEN": "wrong"})
    with pytest.raises(EmulatorAdminError) as info:
        intruder.stats()
    assert info.value.status == 401


def test_stats_count_and_reset(vault: Vault) -> None:
    crypto = vault.crypto(vault.keys.get_key("kvsigner-2"))
    crypto.sign(ES256K, digest_of(0))
    vault.admin.reset_stats()
    crypto.sign(ES256K, digest_of(1))
    vault.keys.get_key("kvsigner-2")
    stats = vault.admin.stats()
    assert stats["signs_ok"] == 1 and stats["gets"] == 1 and stats["requests"] >= 2
    for name in ("signs_throttled", "signs_failed", "tokens_issued", "lists"):
        assert name in stats
    assert set(vault.admin.reset_stats().values()) == {0}


# --- own instances: start-up flags and restarts -----------------------------------------------

def test_flags_and_restart_keep_keys_ca_and_credentials(tmp_path: Path) -> None:
    data = tmp_path / "emu"
    proc = start_emulator(data, keys=2, extra_args=[
        "--high-s", "always", "--deterministic", "--latency-ms", "1", "--quota", "1000",
        "--quota-window", "5", "--retry-after-ratio", "0.5", "--no-auth-check"])
    try:
        first = connect(dict(proc.extra["env"]))  # type: ignore[call-overload]
        config = first.admin.config()
        assert config["high_s"] == "always" and config["deterministic"] is True
        assert config["latency_ms"] == 1 and config["quota"] == 1000
        assert config["quota_window_seconds"] == 5 and config["retry_after_ratio"] == 0.5
        assert config["auth_check"] is False
        names = sorted(p.name for p in first.keys.list_properties_of_keys())
        assert names == ["kvsigner-1", "kvsigner-2"]
        key = first.keys.get_key("kvsigner-1")
        signature = first.crypto(key).sign(ES256K, digest_of(1)).signature
        assert high_s(signature)
        token = first.token()
        ca = (data / "ca.pem").read_bytes()
        env_before = dict(proc.extra["env"])  # type: ignore[call-overload]
    finally:
        proc.stop()

    proc = start_emulator(data, keys=3)
    try:
        env = dict(proc.extra["env"])  # type: ignore[call-overload]
        assert (data / "ca.pem").read_bytes() == ca
        for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                     "KVSIGNER_EMULATOR_ADMIN_TOKEN", "KVSIGNER_VAULT_CA_FILE"):
            assert env[name] == env_before[name]
        second = connect(env)
        again = second.keys.get_key("kvsigner-1", key.properties.version)
        assert (jwk(again).x, jwk(again).y) == (jwk(key).x, jwk(key).y)
        assert sorted(p.name for p in second.keys.list_properties_of_keys()) == [
            "kvsigner-1", "kvsigner-2", "kvsigner-3"]
        # A token issued before the restart is still accepted (the SDK caches tokens).
        reply = requests.get(f"{env['KVSIGNER_VAULT_URL']}/keys?api-version=7.4",
                             verify=env["KVSIGNER_VAULT_CA_FILE"], timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200
        assert second.admin.config()["high_s"] == "random"  # flags are not persisted
        verify_rs(again, digest_of(2), second.crypto(again).sign(ES256K, digest_of(2)).signature)
    finally:
        proc.stop()

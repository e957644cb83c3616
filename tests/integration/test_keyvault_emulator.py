"""The Key Vault emulator, driven by the real Azure SDK (azure-identity, azure-keyvault-keys).

Most tests share one emulator for this module (not the session one: they create keys, with
unique names) and put every runtime fault they change back in a ``finally``. Tests that need
start-up flags or a restart run their own instance under ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyVaultKey
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from eth_account import Account

from ops.keyvault_emulator.admin import EmulatorAdmin, EmulatorAdminError
from ops.processes import ManagedProcess, start_emulator

pytestmark = pytest.mark.integration

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ES256K = SignatureAlgorithm.es256_k


@dataclass
class Vault:
    """SDK clients for one emulator instance."""

    env: dict[str, str]
    credential: ClientSecretCredential
    keys: KeyClient
    admin: EmulatorAdmin

    @property
    def ca(self) -> str:
        return self.env["KVSIGNER_VAULT_CA_FILE"]

    @property
    def url(self) -> str:
        return self.env["KVSIGNER_VAULT_URL"]

    def crypto(self, key: KeyVaultKey, **kwargs: Any) -> CryptographyClient:
        return CryptographyClient(key, self.credential, verify_challenge_resource=False,
                                  connection_verify=self.ca, **kwargs)

    def token(self) -> str:
        return self.credential.get_token("https://vault.azure.net/.default").token


def connect(env: dict[str, str], secret: str | None = None, **kwargs: Any) -> Vault:
    ca = env["KVSIGNER_VAULT_CA_FILE"]
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], secret or env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
        connection_verify=ca)
    keys = KeyClient(env["KVSIGNER_VAULT_URL"], credential, verify_challenge_resource=False,
                     connection_verify=ca, **kwargs)
    return Vault(env, credential, keys, EmulatorAdmin(env))


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """This module creates and imports keys: it gets an emulator of its own, so the shared
    session emulator keeps exactly its generated keys for other tests."""
    proc = start_emulator(tmp_path_factory.mktemp("kv-emulator-tests"), keys=3)
    yield proc
    proc.stop()


@pytest.fixture
def vault(own_emulator: ManagedProcess) -> Iterator[Vault]:
    v = connect(dict(own_emulator.extra["env"]))  # type: ignore[call-overload]
    yield v
    v.keys.close()
    v.admin.close()


@pytest.fixture
def faults(vault: Vault) -> Iterator[EmulatorAdmin]:
    """The admin client; every runtime setting is restored after the test."""
    before = vault.admin.config()
    try:
        yield vault.admin
    finally:
        vault.admin.configure(**before)


def unique(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def digest_of(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "big")).digest()


def jwk(key: KeyVaultKey) -> Any:
    """The key's JsonWebKey (its fields are set dynamically, hence ``Any``)."""
    return key.key


def public_key(key: KeyVaultKey) -> ec.EllipticCurvePublicKey:
    x = int.from_bytes(jwk(key).x, "big")
    y = int.from_bytes(jwk(key).y, "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256K1()).public_key()


def verify_rs(key: KeyVaultKey, digest: bytes, signature: bytes) -> None:
    """Raise InvalidSignature unless ``r || s`` is valid for ``digest`` under ``key``."""
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public_key(key).verify(encode_dss_signature(r, s), digest,
                           ec.ECDSA(Prehashed(hashes.SHA256())))


def high_s(signature: bytes) -> bool:
    return int.from_bytes(signature[32:], "big") > N // 2


def error_body(exc: HttpResponseError) -> dict[str, Any]:
    response: Any = exc.response
    return dict(response.json()["error"])


def reply_headers(exc: HttpResponseError) -> Any:
    response: Any = exc.response
    return response.headers


# --- configuration and authentication ---------------------------------------------------

def test_env_file_points_at_the_emulator(own_emulator: ManagedProcess) -> None:
    emulator = own_emulator
    env = dict(emulator.extra["env"])  # type: ignore[call-overload]
    url = str(emulator.extra["url"])
    assert env["KVSIGNER_VAULT_URL"] == url
    assert env["AZURE_AUTHORITY_HOST"] == url
    assert env["KVSIGNER_EMULATOR_ADMIN_URL"] == f"{url}/_admin"
    ca = Path(env["KVSIGNER_VAULT_CA_FILE"])
    assert ca.is_absolute() and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert env["KVSIGNER_VAULT_VERIFY_CHALLENGE_RESOURCE"] == "false"
    assert env["KVSIGNER_AZURE_CREDENTIAL"] == "client_secret"
    assert env["KVSIGNER_AZURE_DISABLE_INSTANCE_DISCOVERY"] == "true"
    uuid.UUID(env["AZURE_TENANT_ID"])
    uuid.UUID(env["AZURE_CLIENT_ID"])
    assert len(env["AZURE_CLIENT_SECRET"]) >= 32
    assert len(env["KVSIGNER_EMULATOR_ADMIN_TOKEN"]) >= 32
    # No quoting needed: every value is shell-safe as written.
    for value in env.values():
        assert not set(value) & set(" '\"$`\\;&|")


def test_challenge_comes_before_the_body_and_keeps_the_connection_usable(vault: Vault) -> None:
    host, port = vault.url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(
        host, int(port), context=ssl.create_default_context(cafile=vault.ca))
    body = json.dumps({"alg": "ES256K", "value": "not even base64"}).encode()
    conn.request("POST", "/keys/kvsigner-1//sign?api-version=7.4", body=body,
                 headers={"Content-Type": "application/json"})
    reply = conn.getresponse()
    payload = json.loads(reply.read())
    assert reply.status == 401
    tenant = vault.env["AZURE_TENANT_ID"]
    assert reply.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{tenant}", '
        'resource="https://vault.azure.net"')
    assert payload["error"]["code"] == "Unauthorized"
    # Same connection: the unread body must not be taken for the next request line.
    conn.request("GET", "/keys/kvsigner-1?api-version=7.4",
                 headers={"Authorization": f"Bearer {vault.token()}"})
    reply = conn.getresponse()
    assert reply.status == 200, reply.read()
    assert json.loads(reply.read())["key"]["crv"] == "P-256K"
    conn.close()


def test_unknown_token_gets_the_challenge(vault: Vault) -> None:
    reply = requests.get(f"{vault.url}/keys?api-version=7.4", verify=vault.ca,
                         headers={"Authorization": "Bearer made.up.token"}, timeout=10)
    assert reply.status_code == 401
    assert "authorization=" in reply.headers["WWW-Authenticate"]


def test_no_auth_check_accepts_any_token(vault: Vault, faults: EmulatorAdmin) -> None:
    faults.configure(auth_check=False)
    url = f"{vault.url}/keys?api-version=7.4"
    ok = requests.get(url, verify=vault.ca, headers={"Authorization": "Bearer anything"},
                      timeout=10)
    assert ok.status_code == 200
    assert requests.get(url, verify=vault.ca, timeout=10).status_code == 401


def test_wrong_client_secret_raises_client_authentication_error(vault: Vault) -> None:
    bad = connect(vault.env, secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        bad.keys.get_key("kvsigner-1")


def test_token_endpoint_rejects_unknown_client(vault: Vault) -> None:
    tenant = vault.env["AZURE_TENANT_ID"]
    reply = requests.post(
        f"{vault.url}/{tenant}/oauth2/v2.0/token", verify=vault.ca, timeout=10,
        data={"grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
              "client_secret": "x", "scope": "https://vault.azure.net/.default"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "unauthorized_client"
    assert "error_description" in reply.json()


# --- keys: list, get, create, import, update ----------------------------------------------

def test_list_keys_pages_with_absolute_url_safe_links(vault: Vault) -> None:
    for _ in range(3):
        vault.keys.create_ec_key(unique("page"), curve="P-256K", hardware_protected=True)
    expected = {p.name for p in vault.keys.list_properties_of_keys()}
    before = vault.admin.stats()["lists"]
    pages = list(vault.keys.list_properties_of_keys(max_page_size=2).by_page())
    listed = [p.name for page in pages for p in page]
    assert len(pages) >= 3 and sorted(listed) == sorted(expected)
    assert vault.admin.stats()["lists"] - before >= len(pages)
    assert {"kvsigner-1", "kvsigner-2", "kvsigner-3"} <= set(listed)

    raw = requests.get(f"{vault.url}/keys?api-version=7.4&maxresults=1", verify=vault.ca,
                       headers={"Authorization": f"Bearer {vault.token()}"}, timeout=10).json()
    assert len(raw["value"]) == 1 and "/keys/" in raw["value"][0]["kid"]
    assert raw["value"][0]["kid"].count("/") == 4  # versionless id
    link = raw["nextLink"]
    assert link.startswith(f"{vault.url}/keys?")
    assert "+" not in link and " " not in link


def test_bad_maxresults_is_bad_parameter(vault: Vault) -> None:
    reply = requests.get(f"{vault.url}/keys?api-version=7.4&maxresults=26", verify=vault.ca,
                         headers={"Authorization": f"Bearer {vault.token()}"}, timeout=10)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "BadParameter"


def test_empty_first_page_is_followed(vault: Vault, faults: EmulatorAdmin) -> None:
    expected = sorted(p.name for p in vault.keys.list_properties_of_keys())
    faults.configure(empty_first_page=True)
    pages = list(vault.keys.list_properties_of_keys(max_page_size=25).by_page())
    first = list(pages[0])
    assert first == []
    assert sorted(p.name for page in pages[1:] for p in page) == expected


def test_get_latest_and_by_version(vault: Vault) -> None:
    name = unique("versions")
    first = vault.keys.create_ec_key(name, curve="P-256K")
    second = vault.keys.create_ec_key(name, curve="P-256K")
    assert first.properties.version != second.properties.version
    latest = vault.keys.get_key(name)
    assert latest.id == second.id
    assert latest.id == f"{vault.url}/keys/{name}/{second.properties.version}"
    older = vault.keys.get_key(name, first.properties.version)
    assert jwk(older).x == jwk(first).x != jwk(second).x
    versions = {p.version for p in vault.keys.list_properties_of_key_versions(name)}
    assert versions == {first.properties.version, second.properties.version}
    props = latest.properties
    assert props.enabled is True and props.exportable is False
    assert props.recovery_level == "Recoverable+Purgeable"
    assert props.created_on is not None and props.updated_on is not None
    assert latest.key_operations == ["sign", "verify"]


def test_ids_follow_the_host_header(vault: Vault) -> None:
    port = vault.url.rsplit(":", 1)[1]
    reply = requests.get(f"https://localhost:{port}/keys/kvsigner-1/?api-version=7.4",
                         verify=vault.ca, timeout=10,
                         headers={"Authorization": f"Bearer {vault.token()}"})
    assert reply.status_code == 200
    assert reply.json()["key"]["kid"].startswith(f"https://localhost:{port}/keys/kvsigner-1/")


def test_create_and_import_add_versions(vault: Vault) -> None:
    name = unique("import")
    created = vault.keys.create_ec_key(name, curve="P-256K", hardware_protected=True,
                                       tags={"purpose": "test"})
    assert created.key_type == "EC-HSM" and jwk(created).crv == "P-256K"
    assert created.properties.tags == {"purpose": "test"}
    account = Account.create()
    secret = bytes(account.key)
    private = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256K1())
    numbers = private.public_key().public_numbers()
    material = JsonWebKey(kty="EC", crv="P-256K", d=secret, x=numbers.x.to_bytes(32, "big"),
                          y=numbers.y.to_bytes(32, "big"))
    imported = vault.keys.import_key(name, material, hardware_protected=True)
    assert imported.properties.version != created.properties.version
    assert imported.key_type == "EC-HSM"
    assert int.from_bytes(jwk(imported).x, "big") == numbers.x
    assert vault.keys.get_key(name).id == imported.id
    assert len(list(vault.keys.list_properties_of_key_versions(name))) == 2


def test_import_rejects_mismatched_public_part(vault: Vault) -> None:
    material = JsonWebKey(kty="EC", crv="P-256K", d=bytes(Account.create().key),
                          x=b"\x01" * 32, y=b"\x02" * 32)
    with pytest.raises(HttpResponseError) as info:
        vault.keys.import_key(unique("mismatch"), material)
    assert info.value.status_code == 400


def test_update_key_properties_and_disabled_key_is_forbidden(vault: Vault) -> None:
    name = unique("disable")
    key = vault.keys.create_ec_key(name, curve="P-256K")
    crypto = vault.crypto(key)
    crypto.sign(ES256K, digest_of(1))
    updated = vault.keys.update_key_properties(name, enabled=False, tags={"a": "b"})
    assert updated.properties.enabled is False and updated.properties.tags == {"a": "b"}
    with pytest.raises(HttpResponseError) as info:
        crypto.sign(ES256K, digest_of(2))
    assert info.value.status_code == 403
    assert error_body(info.value) == {
        "code": "Forbidden", "message": 'Operation "sign" is not allowed on a disabled key.',
        "innererror": {"code": "KeyDisabled"}}
    vault.keys.update_key_properties(name, key.properties.version, enabled=True)
    crypto.sign(ES256K, digest_of(3))


def test_admin_disables_all_versions_or_one(vault: Vault) -> None:
    name = unique("admin")
    v1 = vault.keys.create_ec_key(name, curve="P-256K")
    v2 = vault.keys.create_ec_key(name, curve="P-256K")
    result = vault.admin.set_key_enabled(name, False)
    assert result["changed"] == 2
    for key in (v1, v2):
        with pytest.raises(HttpResponseError) as info:
            vault.crypto(key).sign(ES256K, digest_of(1))
        assert info.value.status_code == 403
    vault.admin.set_key_enabled(name, True, version=v1.properties.version)
    vault.crypto(v1).sign(ES256K, digest_of(1))
    with pytest.raises(HttpResponseError):
        vault.crypto(v2).sign(ES256K, digest_of(1))


def test_unknown_key_or_version_is_not_found(vault: Vault) -> None:
    with pytest.raises(ResourceNotFoundError) as info:
        vault.keys.get_key(unique("missing"))
    assert error_body(info.value)["code"] == "KeyNotFound"
    with pytest.raises(ResourceNotFoundError):
        vault.keys.get_key("kvsigner-1", uuid.uuid4().hex)
    key = vault.keys.get_key("kvsigner-1")
    bogus_id = key.id.rsplit("/", 1)[0] + "/" + uuid.uuid4().hex
    crypto = CryptographyClient(bogus_id, vault.credential, verify_challenge_resource=False,
                                connection_verify=vault.ca)
    with pytest.raises(ResourceNotFoundError):
        crypto.sign(ES256K, digest_of(1))


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

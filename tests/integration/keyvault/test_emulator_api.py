"""The Key Vault emulator's configuration, authentication and keys API, driven by the real
Azure SDK (azure-identity, azure-keyvault-keys).

The tests share one emulator of this module's own (not the session one: they create keys,
with unique names) and put every runtime fault they change back in a ``finally``.
"""


import http.client
import json
import ssl
import uuid
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.keyvault.keys import JsonWebKey
from azure.keyvault.keys.crypto import CryptographyClient
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account

from ops.keyvault_emulator.admin import EmulatorAdmin
from ops.processes import ManagedProcess
from tests.integration.keyvault.helpers import (
    ES256K,
    Vault,
    connect,
    digest_of,
    error_body,
    jwk,
    unique,
)

pytestmark = pytest.mark.integration


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

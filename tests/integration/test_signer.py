"""AzureKeyVaultSigner end to end: the real Azure SDK and credential against the Key Vault
emulator, and transactions mined by a real anvil node.

Emulators with special flags (``--deterministic``, ``--high-s always``) are started per
module; the session ``emulator`` fixture is only read, never reconfigured.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import JsonWebKey, KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys import keys
from web3 import Web3

from ops.keyvault_emulator.admin import EmulatorAdmin
from ops.processes import ManagedProcess, start_emulator
from worker.domain.errors import ValidationError, VaultError
from worker.setting_values import Secret
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner
from worker.signing.credentials import build_credential
from worker.signing.factory import build_signer
from worker.signing.messages import eip191_digest, sign_personal_message, sign_typed_data
from worker.signing.retry import RetryPolicy
from worker.signing.secp256k1 import HALF_N
from worker.signing.transactions import sign_transaction

pytestmark = pytest.mark.integration

KNOWN_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
DEV_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
TO = "0x3535353535353535353535353535353535353535"


# --- fixtures and helpers ----------------------------------------------------------------

@pytest.fixture(scope="module")
def det_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """An empty emulator with RFC 6979 nonces (flipping half the signatures to high S)."""
    proc = start_emulator(tmp_path_factory.mktemp("kv-det"), keys=0,
                          extra_args=["--deterministic"])
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def high_s_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """An emulator whose every signature has s > n/2; faults are configured per test."""
    proc = start_emulator(tmp_path_factory.mktemp("kv-high-s"), keys=2,
                          extra_args=["--high-s", "always"])
    yield proc
    proc.stop()


@pytest.fixture
def admin(high_s_vault: ManagedProcess) -> Iterator[EmulatorAdmin]:
    client = EmulatorAdmin(env_of(high_s_vault))
    yield client
    client.configure(quota=0, throttle_rate=0.0, fail_rate=0.0, retry_after_ratio=1.0)
    client.close()


def env_of(proc: ManagedProcess) -> dict[str, str]:
    return dict(proc.extra["env"])  # type: ignore[call-overload]


def settings_of(proc: ManagedProcess, **overrides: Any) -> Settings:
    return Settings.from_env(env_of(proc), **overrides)


def key_client(settings: Settings) -> KeyClient:
    return KeyClient(settings.vault_url, build_credential(settings),
                     verify_challenge_resource=False, connection_verify=settings.vault_ca_file)


def import_known_key(settings: Settings, name: str, secret: bytes) -> str:
    """Import ``secret`` as an EC P-256K key; returns its Ethereum address."""
    public = keys.PrivateKey(secret).public_key.to_bytes()
    jwk = JsonWebKey(kty="EC", crv="P-256K", d=secret, x=public[:32], y=public[32:],
                     key_ops=["sign", "verify"])
    with key_client(settings) as client:
        client.import_key(name, jwk)
    return Account.from_key(secret).address


def create_key(settings: Settings, name: str) -> None:
    with key_client(settings) as client:
        client.create_ec_key(name, curve="P-256K", hardware_protected=True)


LEGACY: dict[str, Any] = {"nonce": 0, "gasPrice": 2 * 10**9, "gas": 21000, "to": TO,
                          "value": 12345, "data": b"", "chainId": 31337}
ACCESS_LIST: dict[str, Any] = {
    "type": 1, "nonce": 1, "gasPrice": 2 * 10**9, "gas": 30000, "to": TO, "value": 1,
    "data": b"", "chainId": 31337,
    "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 31 + "01"]}],
}
DYNAMIC_FEE: dict[str, Any] = {
    "type": 2, "nonce": 2, "maxFeePerGas": 4 * 10**9, "maxPriorityFeePerGas": 10**9,
    "gas": 21000, "to": TO, "value": 7, "data": b"", "chainId": 31337, "accessList": [],
}


# --- known answers -------------------------------------------------------------------------

def test_known_answer_transactions_match_eth_account(det_vault: ManagedProcess) -> None:
    settings = settings_of(det_vault)
    address = import_known_key(settings, "known", KNOWN_KEY)
    with AzureKeyVaultSigner(settings) as signer:
        assert [a.address for a in signer.accounts()] == [address]
        for tx in (LEGACY, ACCESS_LIST, DYNAMIC_FEE):
            expected = Account.sign_transaction(tx, KNOWN_KEY)
            signed = sign_transaction(signer, {**tx, "from": address})
            assert signed.raw == bytes(expected.raw_transaction), tx.get("type", "legacy")
            assert signed.hash == expected.hash


def test_known_answer_messages_cover_high_s_normalisation(det_vault: ManagedProcess) -> None:
    settings = settings_of(det_vault)
    address = import_known_key(settings, "known-msg", KNOWN_KEY)
    texts = [f"message {i}" for i in range(8)]
    with AzureKeyVaultSigner(settings) as signer:
        signer.refresh()
        for text in texts:
            expected = Account.sign_message(encode_defunct(text=text), KNOWN_KEY).signature
            assert sign_personal_message(signer, address, text) == bytes(expected)
        account = signer.account(address)
    # The deterministic emulator answers about half of all digests with a high S: check,
    # with the SDK alone, that the vault really handed some of these to our normaliser.
    crypto = CryptographyClient(account.key_id, build_credential(settings),
                                verify_challenge_resource=False,
                                connection_verify=settings.vault_ca_file)
    with crypto:
        raw_s = [int.from_bytes(crypto.sign(SignatureAlgorithm.es256_k,
                                            eip191_digest(encode_defunct(text=t))).signature[32:],
                                "big") for t in texts]
    assert any(s > HALF_N for s in raw_s)
    assert any(s <= HALF_N for s in raw_s)


# --- real chain ----------------------------------------------------------------------------

def _fees(w3: Web3) -> tuple[int, int]:
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    return int(w3.eth.gas_price) + 10**9, 2 * base + 10**9


def test_anvil_mines_all_transaction_types_signed_with_high_s_vault(
        anvil: ManagedProcess, high_s_vault: ManagedProcess) -> None:
    w3 = Web3(Web3.HTTPProvider(str(anvil.extra["url"]), request_kwargs={"timeout": 10}))
    assert w3.eth.chain_id == 31337
    with AzureKeyVaultSigner(settings_of(high_s_vault)) as signer:
        account = signer.accounts()[0]
        # Sanity: this emulator really returns only high-S signatures.
        sig_s = _raw_vault_signature_s(high_s_vault, account.key_id)
        assert sig_s > HALF_N
        funding = w3.eth.send_transaction(
            {"from": DEV_ACCOUNT_0, "to": account.address, "value": Web3.to_wei(1, "ether")})
        assert w3.eth.wait_for_transaction_receipt(funding, timeout=30)["status"] == 1

        gas_price, max_fee = _fees(w3)
        templates: list[dict[str, Any]] = [
            {**LEGACY, "gasPrice": gas_price},
            {**ACCESS_LIST, "gasPrice": gas_price},
            {**DYNAMIC_FEE, "maxFeePerGas": max_fee},
        ]
        for template in templates:
            nonce = w3.eth.get_transaction_count(account.address, "pending")
            tx = {**template, "nonce": nonce, "from": account.address}
            signed = sign_transaction(signer, tx)
            assert signed.s <= HALF_N
            tx_hash = w3.eth.send_raw_transaction(signed.raw)
            assert bytes(tx_hash) == bytes(signed.hash)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
            assert receipt["status"] == 1
            assert receipt["from"] == account.address
            assert int(receipt["type"]) == signed.tx_type
        assert w3.eth.get_transaction_count(account.address) == 3


def _raw_vault_signature_s(proc: ManagedProcess, key_id: str) -> int:
    settings = settings_of(proc)
    crypto = CryptographyClient(key_id, build_credential(settings),
                                verify_challenge_resource=False,
                                connection_verify=settings.vault_ca_file)
    with crypto:
        raw = crypto.sign(SignatureAlgorithm.es256_k, b"\x05" * 32).signature
    return int.from_bytes(raw[32:], "big")


def test_personal_sign_and_typed_data_recover(high_s_vault: ManagedProcess) -> None:
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"},
                             {"name": "chainId", "type": "uint256"}],
            "Order": [{"name": "maker", "type": "address"}, {"name": "amount", "type": "uint256"}],
        },
        "primaryType": "Order",
        "domain": {"name": "kvsigner", "chainId": 31337},
        "message": {"maker": TO, "amount": 10**18},
    }
    with AzureKeyVaultSigner(settings_of(high_s_vault)) as signer:
        address = signer.accounts()[1].address
        personal = sign_personal_message(signer, address, b"hello vault")
        eip712 = sign_typed_data(signer, address, typed)
    assert Account.recover_message(encode_defunct(b"hello vault"), signature=personal) == address
    assert Account.recover_message(encode_typed_data(full_message=typed),
                                   signature=eip712) == address
    assert personal[64] in (27, 28) and eip712[64] in (27, 28)


# --- authentication ------------------------------------------------------------------------

def test_client_secret_credential_authenticates(emulator: ManagedProcess) -> None:
    settings = settings_of(emulator)
    assert isinstance(build_credential(settings), ClientSecretCredential)
    with build_signer(settings) as signer:
        accounts = signer.accounts()
    assert len(accounts) == 3
    assert all(a.enabled and a.curve == "P-256K" for a in accounts)
    assert len({a.address for a in accounts}) == 3


def test_wrong_client_secret_is_vault_auth_failed(emulator: ManagedProcess) -> None:
    wrong = "wrong-secret-Zq81xx"
    settings = settings_of(emulator, azure_client_secret=Secret(wrong))
    with build_signer(settings) as signer, pytest.raises(VaultError) as info:
        signer.accounts()
    assert info.value.code == "vault_auth_failed"
    assert "authentication failed" in info.value.message
    assert "Invalid client secret" in info.value.message
    assert wrong not in info.value.message and wrong not in repr(info.value)
    assert settings.azure_client_secret.reveal() not in str(info.value.to_dict())


def test_missing_credential_variable_is_named(emulator: ManagedProcess) -> None:
    settings = settings_of(emulator, azure_client_id="")
    with pytest.raises(VaultError, match="AZURE_CLIENT_ID") as info:
        build_signer(settings)
    assert info.value.code == "vault_auth_failed"


# --- throttling, server errors, disabled and unknown keys ----------------------------------

def _warm_signer(proc: ManagedProcess, **overrides: Any) -> tuple[AzureKeyVaultSigner, str]:
    """A signer that has discovered keys and signed once (token and challenge cached)."""
    signer = AzureKeyVaultSigner(settings_of(proc, **overrides))
    address = signer.accounts()[0].address
    signer.sign_digest(address, b"\x01" * 32)
    return signer, address


def test_429_without_retry_after_succeeds_after_backoff(
        high_s_vault: ManagedProcess, admin: EmulatorAdmin,
        caplog: pytest.LogCaptureFixture) -> None:
    # Ten retries with waits capped at 1 s: the 1 s quota window frees up long before the
    # jittered backoff could run out.
    signer, address = _warm_signer(high_s_vault, vault_backoff_cap=1.0, vault_sign_retries=10)
    with signer:
        admin.configure(quota=1, quota_window_seconds=1.0, retry_after_ratio=0.0)
        admin.reset_stats()
        caplog.set_level(logging.WARNING, logger="worker.signing.retry")
        start = time.monotonic()
        signer.sign_digest(address, b"\x02" * 32)  # uses the quota
        sig = signer.sign_digest(address, b"\x03" * 32)  # 429 without Retry-After first
        elapsed = time.monotonic() - start
    stats = admin.stats()
    assert sig.s <= HALF_N
    assert stats["signs_ok"] == 2
    assert stats["signs_throttled"] >= 1
    retries = [r for r in caplog.records if "vault answered 429" in r.getMessage()]
    assert len(retries) == stats["signs_throttled"]  # every 429 was retried by our loop
    assert 0.3 < elapsed < 12


def test_429_with_retry_after_waits_as_told(high_s_vault: ManagedProcess,
                                            admin: EmulatorAdmin) -> None:
    signer, address = _warm_signer(high_s_vault, vault_backoff_cap=5.0)
    with signer:
        admin.configure(quota=1, quota_window_seconds=1.0, retry_after_ratio=1.0)
        admin.reset_stats()
        signer.sign_digest(address, b"\x02" * 32)
        start = time.monotonic()
        signer.sign_digest(address, b"\x03" * 32)
        elapsed = time.monotonic() - start
    stats = admin.stats()
    assert stats["signs_throttled"] == 1  # one Retry-After wait was enough
    assert stats["signs_ok"] == 2
    assert 0.9 <= elapsed < 4  # the emulator says "Retry-After: 1"


def test_persistent_503_is_retried_by_us_only_then_vault_unavailable(
        high_s_vault: ManagedProcess, admin: EmulatorAdmin) -> None:
    signer, address = _warm_signer(high_s_vault, vault_backoff_cap=0.05, vault_sign_retries=2)
    with signer:
        admin.configure(fail_rate=1.0, fail_status=503)
        admin.reset_stats()
        with pytest.raises(VaultError) as info:
            signer.sign_digest(address, b"\x04" * 32)
    assert info.value.code == "vault_unavailable"
    assert info.value.retryable
    # 1 attempt + 2 retries, and no hidden SDK retries on top (azure-core retries a 503 POST).
    assert admin.stats()["signs_failed"] == 3


def test_exhausted_throttling_is_vault_throttled(high_s_vault: ManagedProcess,
                                                 admin: EmulatorAdmin) -> None:
    signer, address = _warm_signer(high_s_vault, vault_backoff_cap=0.05, vault_sign_retries=3)
    with signer:
        admin.configure(throttle_rate=1.0, retry_after_ratio=0.0)
        admin.reset_stats()
        with pytest.raises(VaultError) as info:
            signer.sign_digest(address, b"\x04" * 32)
    assert (info.value.code, info.value.retryable) == ("vault_throttled", True)
    assert admin.stats()["signs_throttled"] == 4


def test_disabled_key_fails_at_once(high_s_vault: ManagedProcess, admin: EmulatorAdmin) -> None:
    settings = settings_of(high_s_vault)
    create_key(settings, "to-disable")
    with AzureKeyVaultSigner(settings) as signer:
        account = next(a for a in signer.accounts() if a.key_name == "to-disable")
        signer.sign_digest(account.address, b"\x01" * 32)
        admin.set_key_enabled("to-disable", False)
        try:
            admin.reset_stats()
            start = time.monotonic()
            with pytest.raises(VaultError) as info:
                signer.sign_digest(account.address, b"\x02" * 32)
            elapsed = time.monotonic() - start
            assert info.value.code == "vault_key_disabled"
            assert not info.value.retryable
            assert "to-disable" in info.value.message
            assert elapsed < 0.5  # far below the first backoff ceiling (1 s)
            assert admin.stats()["signs_failed"] == 1  # one attempt, no retries
            # The cache now knows: the account is listed as disabled and refused locally.
            with pytest.raises(VaultError) as again:
                signer.account(account.address)
            assert again.value.code == "vault_key_disabled"
            assert account.address not in [a.address for a in signer.accounts()]
            assert admin.stats()["signs_failed"] == 1
        finally:
            admin.set_key_enabled("to-disable", True)
        assert account.address in [a.address for a in signer.refresh()]


def test_unknown_account_and_unknown_key_version(high_s_vault: ManagedProcess) -> None:
    settings = settings_of(high_s_vault)
    with AzureKeyVaultSigner(settings) as signer:
        stranger = Account.create().address
        with pytest.raises(ValidationError) as info:
            signer.sign_digest(stranger, b"\x01" * 32)
        assert info.value.code == "unknown_account"
        assert stranger in info.value.message
        key = signer.accounts()[0]
    # A key version that no longer exists: the real SDK's 404 becomes vault_key_not_found,
    # raised without retries.
    missing = key.key_id.rsplit("/", 1)[0] + "/" + "0" * 32
    crypto = CryptographyClient(missing, build_credential(settings), retry_total=0,
                                verify_challenge_resource=False,
                                connection_verify=settings.vault_ca_file)
    sleeps: list[float] = []
    with crypto, pytest.raises(VaultError) as not_found:
        RetryPolicy(sleep=sleeps.append).run(
            lambda: crypto.sign(SignatureAlgorithm.es256_k, b"\x01" * 32), "sign")
    assert not_found.value.code == "vault_key_not_found"
    assert "KeyNotFound" in not_found.value.message
    assert sleeps == []

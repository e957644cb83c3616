"""Transaction and message signing through a DigestSigner, against eth-account's own output.

The fake signer holds a local key and, like Key Vault often does, returns high-S raw
signatures, so these tests also exercise normalisation and recid recovery end to end.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys import keys
from eth_keys.datatypes import PrivateKey

from worker.domain.errors import SigningError, ValidationError
from worker.signing.base import Signature, VaultAccount
from worker.signing.messages import sign_personal_message, sign_typed_data
from worker.signing.secp256k1 import N, address_from_public_key, to_signature
from worker.signing.transactions import sign_transaction

KEY = keys.PrivateKey(bytes.fromhex(
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))
ADDRESS = KEY.public_key.to_checksum_address()
TO = "0x3535353535353535353535353535353535353535"


class LocalSigner:
    """DigestSigner over a local key; ``sign_with`` may be another key (a broken signer)."""

    def __init__(self, key: PrivateKey, sign_with: PrivateKey | None = None) -> None:
        public = key.public_key.to_bytes()
        self._account = VaultAccount(
            address=address_from_public_key(public), key_name="local", key_version="v1",
            key_id="https://local/keys/local/v1", public_key=public)
        self._sign_with = sign_with
        self.digests: list[bytes] = []

    def accounts(self) -> list[VaultAccount]:
        return [self._account]

    def account(self, address: str) -> VaultAccount:
        if address.lower() != self._account.address.lower():
            raise ValidationError("unknown_account", address)
        return self._account

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        self.account(address)
        self.digests.append(digest)
        if self._sign_with is not None:  # broken: skips verification on purpose
            other = self._sign_with.sign_msg_hash(digest)
            return Signature(r=other.r, s=other.s, recid=other.v)
        sig = KEY.sign_msg_hash(digest)
        high_s_raw = sig.r.to_bytes(32, "big") + (N - sig.s).to_bytes(32, "big")
        return to_signature(digest, high_s_raw, self._account.public_key)


LEGACY: dict[str, Any] = {"nonce": 3, "gasPrice": 20 * 10**9, "gas": 21000, "to": TO,
                          "value": 10**18, "data": b"", "chainId": 31337}
ACCESS_LIST: dict[str, Any] = {
    "type": 1, "nonce": 4, "gasPrice": 10**9, "gas": 50000, "to": TO, "value": 1,
    "data": "0x1234", "chainId": 31337,
    "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 31 + "01"]}],
}
DYNAMIC_FEE: dict[str, Any] = {
    "type": 2, "nonce": 5, "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9,
    "gas": 30000, "to": TO, "value": 7, "data": "0x", "chainId": 1, "accessList": [],
}


@pytest.mark.parametrize(("tx", "tx_type"), [(LEGACY, 0), (ACCESS_LIST, 1), (DYNAMIC_FEE, 2)])
def test_matches_eth_account_byte_for_byte(tx: dict[str, Any], tx_type: int) -> None:
    expected = Account.sign_transaction(tx, KEY.to_bytes())
    signed = sign_transaction(LocalSigner(KEY), {**tx, "from": ADDRESS})
    assert signed.raw == bytes(expected.raw_transaction)
    assert signed.hash == expected.hash
    assert (signed.r, signed.s, signed.v) == (expected.r, expected.s, expected.v)
    assert signed.sender == ADDRESS
    assert signed.nonce == tx["nonce"]
    assert signed.tx_type == tx_type


def test_type_is_inferred_from_fee_fields() -> None:
    tx = {k: v for k, v in DYNAMIC_FEE.items() if k != "type"}
    signed = sign_transaction(LocalSigner(KEY), {**tx, "from": ADDRESS})
    assert signed.tx_type == 2
    assert signed.raw[0] == 2


def test_legacy_v_follows_eip155() -> None:
    signed = sign_transaction(LocalSigner(KEY), {**LEGACY, "from": ADDRESS.lower()})
    assert signed.v in (35 + 2 * 31337, 36 + 2 * 31337)


def test_legacy_without_chain_id_is_refused() -> None:
    tx = {k: v for k, v in LEGACY.items() if k != "chainId"}
    signer = LocalSigner(KEY)
    with pytest.raises(ValidationError, match="chainId") as info:
        sign_transaction(signer, {**tx, "from": ADDRESS})
    assert info.value.code == "invalid_field"
    assert signer.digests == []


@pytest.mark.parametrize(("change", "message"), [
    ({"type": 3}, "type 3"),
    ({"type": "0x4"}, "type 4"),
    ({"from": None}, "from"),
    ({"chainId": 0}, "chainId"),
    ({"gas": "lots"}, "invalid transaction"),
])
def test_invalid_transactions_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        sign_transaction(LocalSigner(KEY), {**DYNAMIC_FEE, "from": ADDRESS, **change})


def test_unknown_sender_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        sign_transaction(LocalSigner(KEY), {**LEGACY, "from": TO})
    assert info.value.code == "unknown_account"


def test_sender_mismatch_is_caught_before_returning() -> None:
    broken = LocalSigner(KEY, sign_with=keys.PrivateKey(b"\x42" * 32))
    with pytest.raises(SigningError) as info:
        sign_transaction(broken, {**DYNAMIC_FEE, "from": ADDRESS})
    assert info.value.code == "sender_mismatch"


@pytest.mark.parametrize("message", [b"hello", "hello \u00e9", b"\x00\xff" * 40])
def test_personal_sign_matches_eth_account(message: bytes | str) -> None:
    signature = sign_personal_message(LocalSigner(KEY), ADDRESS, message)
    signable = (encode_defunct(text=message) if isinstance(message, str)
                else encode_defunct(primitive=message))
    assert len(signature) == 65 and signature[64] in (27, 28)
    assert signature == bytes(Account.sign_message(signable, KEY.to_bytes()).signature)
    assert Account.recover_message(signable, signature=signature) == ADDRESS


TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"},
                         {"name": "verifyingContract", "type": "address"}],
        "Mail": [{"name": "from", "type": "address"}, {"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "kvsigner", "chainId": 1, "verifyingContract": TO},
    "message": {"from": TO, "contents": "hi"},
}


def test_typed_data_matches_eth_account() -> None:
    signature = sign_typed_data(LocalSigner(KEY), ADDRESS, TYPED)
    signable = encode_typed_data(full_message=TYPED)
    assert signature == bytes(Account.sign_message(signable, KEY.to_bytes()).signature)
    assert Account.recover_message(signable, signature=signature) == ADDRESS


def test_malformed_typed_data_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        sign_typed_data(LocalSigner(KEY), ADDRESS, {"types": {}, "message": {}})
    assert info.value.code == "invalid_field"

"""secp256k1 helpers: low-S normalisation, recovery id, public key and address handling."""

from __future__ import annotations

import pytest
from eth_keys import keys
from eth_keys.datatypes import PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.domain.errors import SigningError
from worker.signing.secp256k1 import (
    HALF_N,
    N,
    address_from_public_key,
    is_low_s,
    normalize_s,
    public_key_from_jwk,
    recover_recid,
    split_raw_signature,
    to_signature,
)

private_keys = st.integers(min_value=1, max_value=N - 1).map(
    lambda i: PrivateKey(i.to_bytes(32, "big"))
)
digests = st.binary(min_size=32, max_size=32)


def _raw(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=private_keys, digest=digests)
def test_high_s_signature_is_normalised_and_recovers(key: PrivateKey,
                                                     digest: bytes) -> None:
    reference = key.sign_msg_hash(digest)  # eth_keys signs low-S
    high_s = N - reference.s
    assert high_s > HALF_N

    sig = to_signature(digest, _raw(reference.r, high_s), key.public_key.to_bytes())

    assert is_low_s(sig.s)
    assert (sig.r, sig.s, sig.recid) == (reference.r, reference.s, reference.v)
    recovered = keys.Signature(vrs=(sig.recid, sig.r, sig.s)).recover_public_key_from_msg_hash(
        digest)
    assert recovered.to_checksum_address() == address_from_public_key(key.public_key.to_bytes())


@settings(max_examples=20, deadline=None)
@given(key=private_keys, digest=digests)
def test_low_s_signature_is_kept(key: PrivateKey, digest: bytes) -> None:
    reference = key.sign_msg_hash(digest)
    sig = to_signature(digest, _raw(reference.r, reference.s), key.public_key.to_bytes())
    assert (sig.r, sig.s, sig.recid) == (reference.r, reference.s, reference.v)


@settings(max_examples=20, deadline=None)
@given(key=private_keys, digest=digests, bit=st.integers(min_value=0, max_value=511))
def test_corrupted_signature_fails_loudly(key: PrivateKey, digest: bytes,
                                          bit: int) -> None:
    reference = key.sign_msg_hash(digest)
    raw = bytearray(_raw(reference.r, reference.s))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SigningError) as info:
        to_signature(digest, bytes(raw), key.public_key.to_bytes())
    assert info.value.code == "signature_invalid"


def test_signature_of_another_key_is_refused() -> None:
    signer, other = keys.PrivateKey(b"\x11" * 32), keys.PrivateKey(b"\x22" * 32)
    digest = b"\x33" * 32
    sig = signer.sign_msg_hash(digest)
    with pytest.raises(SigningError, match="does not recover") as info:
        recover_recid(digest, sig.r, sig.s, other.public_key.to_bytes())
    assert info.value.code == "signature_invalid"


def test_signature_over_another_digest_is_refused() -> None:
    key = keys.PrivateKey(b"\x11" * 32)
    sig = key.sign_msg_hash(b"\x01" * 32)
    with pytest.raises(SigningError):
        to_signature(b"\x02" * 32, _raw(sig.r, sig.s), key.public_key.to_bytes())


@pytest.mark.parametrize(("s", "expected"), [
    (1, 1),
    (HALF_N, HALF_N),
    (HALF_N + 1, N - HALF_N - 1),
    (N - 1, 1),
])
def test_normalize_s(s: int, expected: int) -> None:
    assert normalize_s(s) == expected
    assert is_low_s(normalize_s(s))


@pytest.mark.parametrize("s", [0, N, N + 5])
def test_normalize_s_rejects_out_of_range(s: int) -> None:
    with pytest.raises(SigningError):
        normalize_s(s)


@pytest.mark.parametrize("length", [0, 63, 65, 72])
def test_raw_signature_must_be_64_bytes(length: int) -> None:
    with pytest.raises(SigningError, match="64-byte"):
        split_raw_signature(b"\x01" * length)


def test_zero_r_is_refused() -> None:
    with pytest.raises(SigningError):
        to_signature(b"\x01" * 32, _raw(0, 5), keys.PrivateKey(b"\x11" * 32).public_key.to_bytes())


# Private keys 153 and 122 have public keys whose x (resp. y) starts with a zero byte, which
# a JWK encoder may strip.
@pytest.mark.parametrize("secret", [153, 122, 0x11 * (2**248 // 255)])
def test_public_key_from_stripped_jwk_coordinates(secret: int) -> None:
    key = keys.PrivateKey(secret.to_bytes(32, "big"))
    full = key.public_key.to_bytes()
    x, y = full[:32].lstrip(b"\x00"), full[32:].lstrip(b"\x00")
    public = public_key_from_jwk(x, y)
    assert public == full
    assert address_from_public_key(public) == key.public_key.to_checksum_address()


def test_known_address() -> None:
    # anvil's dev account 0
    key = keys.PrivateKey(bytes.fromhex(
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"))
    assert address_from_public_key(key.public_key.to_bytes()) == \
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_public_key_from_jwk_rejects_bad_points() -> None:
    with pytest.raises(ValueError, match="not a point"):
        public_key_from_jwk(b"\x01" * 32, b"\x02" * 32)
    with pytest.raises(ValueError, match="longer"):
        public_key_from_jwk(b"\x01" * 33, b"\x02" * 32)

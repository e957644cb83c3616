"""secp256k1 helpers that turn a vault's raw ``r || s`` into an Ethereum signature.

Key Vault returns a 64-byte ``r || s`` without a recovery id, and about half of its
signatures have a high ``s`` (EIP-2 forbids those on chain). Everything here is pure and
thread-safe: no I/O, no state.
"""

from __future__ import annotations

from eth_keys import keys
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from worker.domain.errors import SigningError
from worker.signing.base import Signature

#: Order of the secp256k1 group.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2


def is_low_s(s: int) -> bool:
    """True when ``s`` is in the lower half of the group order (EIP-2)."""
    return 0 < s <= HALF_N


def normalize_s(s: int) -> int:
    """Return the low-S equivalent of ``s``: ``n - s`` when ``s > n/2``.

    Both ``(r, s)`` and ``(r, n - s)`` verify for the same key and digest; only the low one
    is accepted by Ethereum nodes. Raises ``SigningError(signature_invalid)`` when ``s`` is
    not in ``[1, n-1]``.
    """
    if not 0 < s < N:
        raise SigningError("signature_invalid", "signature s is outside [1, n-1]")
    return N - s if s > HALF_N else s


def public_key_from_jwk(x: bytes, y: bytes) -> bytes:
    """The 64-byte public key ``x || y`` from JWK coordinates.

    Coordinates are left-padded to 32 bytes: a JWK encoder may drop leading zero bytes.
    Raises ``ValueError`` if a coordinate is longer than 32 bytes or the point is not on
    the curve.
    """
    if len(x) > 32 or len(y) > 32:
        raise ValueError("JWK coordinate longer than 32 bytes")
    raw = x.rjust(32, b"\x00") + y.rjust(32, b"\x00")
    _check_on_curve(raw)
    return raw


def _check_on_curve(public_key64: bytes) -> None:
    p = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
    x = int.from_bytes(public_key64[:32], "big")
    y = int.from_bytes(public_key64[32:], "big")
    if not (0 < x < p and 0 < y < p) or (y * y - x * x * x - 7) % p != 0:
        raise ValueError("public key is not a point on secp256k1")


def address_from_public_key(public_key64: bytes) -> ChecksumAddress:
    """EIP-55 address: last 20 bytes of keccak256(x || y)."""
    if len(public_key64) != 64:
        raise ValueError("public key must be 64 bytes (x || y)")
    return to_checksum_address(keccak(public_key64)[-20:])


def recover_recid(digest: bytes, r: int, s: int, public_key64: bytes) -> int:
    """The recovery id (0 or 1) under which ``(r, s)`` over ``digest`` yields ``public_key64``.

    Raises ``SigningError(signature_invalid)`` when neither id recovers the key: the
    signature is corrupt or was made by another key, and must never be broadcast.
    """
    for recid in (0, 1):
        try:
            candidate = keys.Signature(vrs=(recid, r, s)).recover_public_key_from_msg_hash(digest)
        except (BadSignature, ValueError):
            continue
        if candidate.to_bytes() == public_key64:
            return recid
    raise SigningError(
        "signature_invalid",
        "the vault's signature does not recover to the account's public key",
    )


def split_raw_signature(raw64: bytes) -> tuple[int, int]:
    """``(r, s)`` from the vault's 64-byte big-endian ``r || s`` (not DER).

    Raises ``SigningError(signature_invalid)`` for any other length.
    """
    if len(raw64) != 64:
        raise SigningError(
            "signature_invalid", f"expected a 64-byte r||s signature, got {len(raw64)} bytes"
        )
    return int.from_bytes(raw64[:32], "big"), int.from_bytes(raw64[32:], "big")


def to_signature(digest: bytes, raw64: bytes, public_key64: bytes) -> Signature:
    """Normalise a vault signature to low S and attach its recovery id.

    Raises ``SigningError(signature_invalid)`` if the bytes are malformed or the signature
    does not belong to ``public_key64``.
    """
    r, s = split_raw_signature(raw64)
    if not 0 < r < N:
        raise SigningError("signature_invalid", "signature r is outside [1, n-1]")
    s = normalize_s(s)
    return Signature(r=r, s=s, recid=recover_recid(digest, r, s, public_key64))

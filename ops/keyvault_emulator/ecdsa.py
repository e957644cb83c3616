"""secp256k1 ECDSA signing of 32-byte digests, the way Key Vault does it (and a test mode).

Key Vault signs with a random nonce and does not normalise S, so about half of its
signatures have ``s > n/2``. ``sign_digest`` reproduces that by default. Deterministic mode
uses the RFC 6979 nonce exactly as eth_keys (and so eth_account) computes it, so that a
signature, once normalised to low S, equals eth_account's for the same key and digest.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from eth_keys.backends.native.ecdsa import deterministic_generate_k

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2
DIGEST_SIZE = 32

HIGH_S_MODES: tuple[str, ...] = ("random", "always")

# A 32-byte digest passes for a SHA-256 output: cryptography then signs it as given.
_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))


def _to_high_s(s: int) -> int:
    return s if s > HALF_N else N - s


def _to_low_s(s: int) -> int:
    return s if s <= HALF_N else N - s


def _deterministic(key: ec.EllipticCurvePrivateKey, digest: bytes) -> tuple[int, int]:
    d = key.private_numbers().private_value
    z = int.from_bytes(digest, "big")
    # eth_keys reduces the digest mod n before deriving k; do the same to match it exactly.
    k = deterministic_generate_k((z % N).to_bytes(32, "big"), d.to_bytes(32, "big"))
    # k*G computed by OpenSSL: the public point of the "private key" k.
    point = ec.derive_private_key(k, ec.SECP256K1()).public_key().public_numbers()
    r = point.x % N
    s = pow(k, -1, N) * (z + r * d) % N
    return r, _to_low_s(s)


class NoncePool:
    """Random nonces ``k`` with ``r = (k*G).x mod n`` computed ahead of time.

    The point multiplication is nearly all of a signature's cost (~0.35 ms for secp256k1
    in OpenSSL here); the rest is a modular inverse. The server calls ``top_up`` after a
    reply has been sent, so the next nonce is ready by the time the client sends its next
    request. Each pair is handed out once. Thread-safe.
    """

    def __init__(self, target: int = 64) -> None:
        self.target = target
        self._pairs: deque[tuple[int, int]] = deque()
        self._lock = threading.Lock()

    @staticmethod
    def fresh() -> tuple[int, int]:
        """One new ``(k, r)`` with ``k`` from OpenSSL's random generator."""
        nonce = ec.generate_private_key(ec.SECP256K1())
        return (nonce.private_numbers().private_value,
                nonce.public_key().public_numbers().x % N)

    def take(self) -> tuple[int, int]:
        """A precomputed pair, or a freshly computed one when the pool is empty."""
        with self._lock:
            if self._pairs:
                return self._pairs.popleft()
        return self.fresh()

    def top_up(self, count: int = 1) -> None:
        """Add up to ``count`` pairs without exceeding ``target``."""
        for _ in range(count):
            with self._lock:
                if len(self._pairs) >= self.target:
                    return
            pair = self.fresh()
            with self._lock:
                self._pairs.append(pair)


def _random(key: ec.EllipticCurvePrivateKey, digest: bytes,
            nonces: NoncePool | None) -> tuple[int, int]:
    if nonces is None:
        r, s = decode_dss_signature(key.sign(digest, _PREHASHED))
        return r, s
    d = key.private_numbers().private_value
    z = int.from_bytes(digest, "big")
    while True:
        k, r = nonces.take()
        s = pow(k, -1, N) * (z + r * d) % N
        if r and s:  # zero only with negligible probability; take another nonce then
            return r, s


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes, *, deterministic: bool = False,
                high_s: str = "random", nonces: NoncePool | None = None) -> bytes:
    """Sign ``digest`` (exactly 32 bytes) and return ``r || s``, 32 big-endian bytes each.

    ``high_s="random"``: random nonce -> S is high about half the time; deterministic
    nonce -> S is high exactly when the last byte of sha256(digest) is odd (stable
    per digest, so re-signing gives the same bytes).
    ``high_s="always"``: every signature is returned with ``s > n/2``.
    Random nonces come from ``nonces`` when given, else OpenSSL signs directly.
    Raises ``ValueError`` for a digest of another length or an unknown ``high_s``.
    """
    if len(digest) != DIGEST_SIZE:
        raise ValueError(f"digest must be {DIGEST_SIZE} bytes, got {len(digest)}")
    if high_s not in HIGH_S_MODES:
        raise ValueError(f"high_s must be one of {HIGH_S_MODES}")
    if deterministic:
        r, s = _deterministic(key, digest)
        if high_s == "always" or hashlib.sha256(digest).digest()[-1] & 1:
            s = _to_high_s(s)
    else:
        r, s = _random(key, digest, nonces)
        if high_s == "always":
            s = _to_high_s(s)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_digest(public: ec.EllipticCurvePublicKey, digest: bytes, signature: bytes) -> bool:
    """True when ``signature`` (64-byte ``r || s``, high or low S) is valid for ``digest``."""
    if len(signature) != 64 or len(digest) != DIGEST_SIZE:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    try:
        public.verify(encode_dss_signature(r, s), digest, _PREHASHED)
    except InvalidSignature:
        return False
    return True

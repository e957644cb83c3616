"""The signer's public surface: accounts backed by vault keys, and digest signatures.

Everything above this package (pipeline, API, JSON-RPC) depends only on ``DigestSigner``,
``VaultAccount`` and ``Signature``; the Azure implementation lives in ``azure_key_vault``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_typing import ChecksumAddress


@dataclass(frozen=True)
class VaultAccount:
    """An Ethereum account whose private key is one version of one vault key.

    ``key_id`` is the full versioned key id (``https://{vault}/keys/{name}/{version}``);
    ``public_key`` is the 64-byte uncompressed point ``x || y``.
    """

    address: ChecksumAddress
    key_name: str
    key_version: str
    key_id: str
    public_key: bytes
    enabled: bool = True
    curve: str = "P-256K"

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "keyName": self.key_name,
            "keyVersion": self.key_version,
            "keyId": self.key_id,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class Signature:
    """A secp256k1 signature normalised to low S, with its recovery id (0 or 1)."""

    r: int
    s: int
    recid: int


class DigestSigner(Protocol):
    """Signs 32-byte digests with the key behind an account.

    Implementations must return low-S signatures whose ``recid`` recovers the account's
    public key, and raise ``worker.domain.errors.KvsignerError`` subclasses with stable codes.
    """

    def accounts(self) -> list[VaultAccount]:
        """Every enabled account, refreshed on the implementation's interval."""
        ...

    def account(self, address: str) -> VaultAccount:
        """The account for ``address`` (any case); raises code ``unknown_account``."""
        ...

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        """Sign exactly 32 bytes with ``address``'s key."""
        ...

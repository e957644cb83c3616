"""Message signatures: EIP-191 ``personal_sign`` and EIP-712 (v4) typed data.

Both return the 65-byte ``r || s || v`` with ``v = 27 + recid`` that wallets and
``eth_account.Account.recover_message`` expect. Only eth-account's public encoders are used;
the EIP-191 digest is computed here from the ``SignableMessage`` parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account.messages import SignableMessage, encode_defunct, encode_typed_data
from eth_utils import keccak

from worker.domain.errors import ValidationError
from worker.signing.base import DigestSigner, Signature


def eip191_digest(message: SignableMessage) -> bytes:
    """keccak256(0x19 || version || header || body), the digest EIP-191 signs."""
    return keccak(b"\x19" + bytes(message.version) + bytes(message.header)
                  + bytes(message.body))


def signature_bytes(signature: Signature) -> bytes:
    """65-byte ``r || s || v`` with ``v = 27 + recid`` (message signature convention)."""
    return (signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big")
            + bytes([27 + signature.recid]))


def sign_personal_message(signer: DigestSigner, address: str, message: bytes | str) -> bytes:
    """EIP-191 version 0x45 (``personal_sign``/``eth_sign``) signature of ``message``.

    ``bytes`` are signed as they are; a ``str`` is signed as its UTF-8 text (callers decode
    0x-hex payloads to bytes first). Raises the errors of ``signer.sign_digest``.
    """
    if isinstance(message, str):
        signable = encode_defunct(text=message)
    elif isinstance(message, bytes | bytearray):
        signable = encode_defunct(primitive=bytes(message))
    else:
        raise ValidationError("invalid_field", "message must be bytes or text")
    return signature_bytes(signer.sign_digest(address, eip191_digest(signable)))


def sign_typed_data(signer: DigestSigner, address: str, typed_data: Mapping[str, Any]) -> bytes:
    """EIP-712 (``eth_signTypedData_v4``) signature of ``typed_data``.

    ``typed_data`` is the full message: ``types`` (with ``EIP712Domain``), ``primaryType``,
    ``domain`` and ``message``. Raises ``ValidationError(invalid_field)`` when eth-account
    cannot encode it, and the errors of ``signer.sign_digest``.
    """
    try:
        signable = encode_typed_data(full_message=dict(typed_data))
    except Exception as exc:
        # eth-account raises ValueError, TypeError or KeyError depending on what is wrong.
        raise ValidationError("invalid_field", f"invalid typed data: {exc}") from exc
    return signature_bytes(signer.sign_digest(address, eip191_digest(signable)))

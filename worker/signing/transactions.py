"""Sign Ethereum transactions with a ``DigestSigner``: build -> hash -> sign digest -> encode.

Supported: legacy EIP-155 (``gasPrice`` and ``chainId`` required: replay-unprotected
transactions are refused), EIP-2930 (type 1, ``accessList``) and EIP-1559 (type 2).
``tx["from"]`` names the account; every other key is a transaction field in eth-account's
dict format (ints or hex strings, ``data``, ``to``...).

This is the ONLY module that touches eth-account's private ``_utils`` package:
eth-account's public ``Account.sign_transaction`` needs the private key, while building the
unsigned transaction, hashing it and encoding it with an externally made ``(v, r, s)`` is
only available as ``eth_account._utils.legacy_transactions`` (which also dispatches typed
transactions). Keeping those imports here means an eth-account upgrade breaks one file.
The result is re-checked with the public ``Account.recover_transaction``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account._utils.legacy_transactions import (
    Transaction,
    encode_transaction,
    serializable_unsigned_transaction_from_dict,
)
from eth_account.typed_transactions import TypedTransaction
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hexbytes import HexBytes

from worker.audit.signer import transaction_audit
from worker.domain.errors import SigningError, ValidationError
from worker.signing.base import DigestSigner

SUPPORTED_TYPES = (0, 1, 2)


@dataclass(frozen=True)
class SignedTransaction:
    """A signed transaction ready for ``eth_sendRawTransaction``.

    ``hash`` is keccak256 of ``raw`` (the transaction hash the node will report); ``v`` is
    the value encoded in ``raw``: ``recid + 35 + 2*chainId`` for legacy transactions, the
    y-parity (0/1) for typed ones.
    """

    raw: bytes
    hash: HexBytes
    sender: ChecksumAddress
    nonce: int
    tx_type: int
    r: int
    s: int
    v: int

    @property
    def raw_hex(self) -> str:
        return "0x" + self.raw.hex()


def _parse_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValidationError("invalid_field", f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            pass
    raise ValidationError("invalid_field", f"{name} must be an integer or 0x-hex string")


def _transaction_type(fields: Mapping[str, Any]) -> int:
    if "type" in fields:
        tx_type = _parse_int(fields["type"], "type")
    elif "maxFeePerGas" in fields or "maxPriorityFeePerGas" in fields:
        tx_type = 2
    elif "accessList" in fields:
        tx_type = 1
    else:
        tx_type = 0
    if tx_type not in SUPPORTED_TYPES:
        raise ValidationError("invalid_field", f"transaction type {tx_type} is not supported "
                              f"(supported: {', '.join(map(str, SUPPORTED_TYPES))})")
    return tx_type


def _prepare(tx: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The eth-account dict (no ``from``, explicit ``type`` for typed txs) and its type."""
    fields = {k: v for k, v in tx.items() if k != "from"}
    tx_type = _transaction_type(fields)
    if tx_type == 0:
        fields.pop("type", None)
        if fields.get("chainId") is None:
            raise ValidationError("invalid_field", "chainId is required: unprotected legacy "
                                  "transactions (no EIP-155) are refused")
        if "gasPrice" not in fields:
            raise ValidationError("invalid_field", "gasPrice is required for a legacy transaction")
    else:
        fields["type"] = tx_type
        if fields.get("chainId") is None:
            raise ValidationError("invalid_field", "chainId is required")
    if _parse_int(fields["chainId"], "chainId") <= 0:
        raise ValidationError("invalid_field", "chainId must be positive")
    return fields, tx_type


def sign_transaction(signer: DigestSigner, tx: Mapping[str, Any]) -> SignedTransaction:
    """Sign ``tx`` with the vault key of ``tx["from"]``.

    Raises ``ValidationError(invalid_field)`` for a missing ``from``, an unsupported type, a
    legacy transaction without ``chainId`` or any field eth-account refuses; the errors of
    ``signer.account``/``signer.sign_digest``; ``SigningError(sender_mismatch)`` if the
    encoded transaction does not recover to the account (nothing may then be broadcast).
    Does not fill in defaults (nonce, gas, fees must all be present).
    """
    if not tx.get("from"):
        raise ValidationError("invalid_field", "from is required")
    account = signer.account(str(tx["from"]))
    fields, tx_type = _prepare(tx)
    try:
        unsigned = serializable_unsigned_transaction_from_dict(fields)
    except Exception as exc:
        # eth-account reports malformed fields as TypeError, ValueError, KeyError or rlp
        # errors depending on the field; all of them mean the same thing to a caller.
        raise ValidationError("invalid_field", f"invalid transaction: {exc}") from exc

    with transaction_audit(signer) as audit_result:
        signature = signer.sign_digest(account.address, bytes(unsigned.hash()))
        if isinstance(unsigned, TypedTransaction):
            v = signature.recid
        elif isinstance(unsigned, Transaction):
            # EIP-155: the unsigned legacy transaction carries chainId in v.
            v = signature.recid + 35 + 2 * int(unsigned.v)
        else:  # pragma: no cover - _prepare guarantees a chainId
            raise ValidationError("invalid_field", "chainId is required")
        raw = bytes(encode_transaction(unsigned, vrs=(v, signature.r, signature.s)))

        sender = Account.recover_transaction(raw)
        if sender != account.address:
            raise SigningError("sender_mismatch", f"signed transaction recovers to {sender}, "
                               f"not {account.address}; it was not broadcast")
        audit_result(raw)  # the audit log's "signed" and "result" (the tx hash) entries
    return SignedTransaction(
        raw=raw, hash=HexBytes(keccak(raw)), sender=account.address,
        nonce=_parse_int(fields.get("nonce"), "nonce"), tx_type=tx_type,
        r=signature.r, s=signature.s, v=v,
    )

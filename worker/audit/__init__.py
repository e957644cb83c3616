"""The audit log: an append-only record of every signature the vault makes for kvsigner.

Nothing can sign without leaving a record, by construction: the only signer kvsigner's code
reaches (``Services.signer``) is an ``AuditedSigner``, which writes a ``requested`` entry
before it calls the vault and refuses to call it when that write fails (error
``audit_unavailable``, retryable). See ``signer`` for the sequence, ``log`` for storage and
retention, ``query`` for reading (``GET /audit``, ``kvsigner audit export``).

Entry fields (Redis stream ``kvsigner:audit``; the id is ``<ms>-<seq>`` of the Redis clock):

``status``       ``requested`` (before the vault call), ``signed``, ``failed`` or ``result``
``signingId``    links the entries of one signature (random, 32 hex digits)
``purpose``      what the signature is for: ``transaction``, ``replacement``,
                 ``cancellation``, ``filler`` (refined from the record for worker signings),
                 or what the caller bound (``personal_sign``, ``typed_data``, ``eth_sign``,
                 ``sign_transaction``...); absent when nobody said
``txId``         the transaction record signed for (absent for messages)
``requestId``    the API request that caused it; ``apiKey`` the API key's name
``address``      the account; ``keyName``, ``keyVersion``, ``keyId`` its vault key version
``digest``       the 32 bytes the vault was asked to sign (0x-hex)
``r``, ``s``     (signed) the low-S signature; ``v`` = 27 + recovery id
``txHash``       (result) keccak256 of the raw transaction built from the signature
``error``        (failed) the error code; ``durationMs`` (signed, failed) vault time
``process``      host:pid of the process that signed; ``format`` the entry format (``1``)

So the result of a transaction signature is its hash (``result`` entry); the result of a
message signature is the signature itself (``signed`` entry, shown as the 65-byte
``signature`` by the API).
"""

from __future__ import annotations

from worker.audit.log import STREAM, AuditLog
from worker.audit.signer import (
    AuditedSigner,
    purpose_of,
    signing_for,
    transaction_audit,
)

__all__ = ["STREAM", "AuditLog", "AuditedSigner", "purpose_of", "signing_for",
           "transaction_audit"]

"""Readable revert reasons from node answers: the message text or ABI-encoded revert data.

Nodes differ in what they decode, so both are read: ``Error(string)`` and ``Panic(uint256)``
payloads (in the error's ``data`` or as hex in the message) win over free text.
"""

from __future__ import annotations

import re

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

# Solidity's Panic(uint256) codes, as documented for the compiler.
PANIC_MEANINGS: dict[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assert(false)",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "invalid value converted to an enum",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "too much memory allocated",
    0x51: "call to an uninitialized internal function",
}
_ERROR_SELECTOR = bytes.fromhex("08c379a0")
_PANIC_SELECTOR = bytes.fromhex("4e487b71")
_HEX = re.compile(r"0x([0-9a-fA-F]{8,})")


def _hex_payload(data: object) -> str | None:
    """The first ``0x…`` revert payload inside ``data`` (a string, or a nested dict)."""
    if isinstance(data, str):
        found = _HEX.search(data)
        return found.group(1) if found else None
    if isinstance(data, dict):
        for key in ("data", "originalError"):
            payload = _hex_payload(data.get(key))
            if payload:
                return payload
    return None


def _decode_revert(hex_body: str) -> str | None:
    """Decode ``Error(string)`` or ``Panic(uint256)`` return data; ``None`` for anything else."""
    if len(hex_body) % 2:
        return None
    raw = bytes.fromhex(hex_body)
    try:
        if raw[:4] == _ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], raw[4:])
            return str(reason)
        if raw[:4] == _PANIC_SELECTOR:
            (panic,) = abi_decode(["uint256"], raw[4:])
            meaning = PANIC_MEANINGS.get(panic, "unknown panic code")
            return f"panic 0x{panic:02x}: {meaning}"
    except (DecodingError, UnicodeDecodeError, OverflowError):
        return None
    return None


_REASON_FORMS = (
    re.compile(r"execution reverted: (?:revert: )?(.+)", re.IGNORECASE | re.DOTALL),
    re.compile(r"execution reverted \((.+)\)", re.IGNORECASE | re.DOTALL),
    re.compile(r"reverted with reason string '(.*)'", re.IGNORECASE | re.DOTALL),
    re.compile(r"vm exception while processing transaction: (?:revert )?(.+)",
               re.IGNORECASE | re.DOTALL),
)
# Texts nodes put where a reason would be when the contract gave none.
_NO_REASON = frozenset({"revert", "revert.", "reverted"})


def revert_reason(message: str, data: object = None) -> str | None:
    """A readable revert reason, or ``None`` when the node gave none.

    Decoded ``Error(string)`` / ``Panic(uint256)`` data (in ``data``, or hex after
    ``execution reverted: `` in the message) wins over the message text, since nodes differ in
    what they decode. Otherwise the text after ``execution reverted: `` (also Besu's
    ``Execution reverted (…)``, Hardhat's and Ganache's ``VM Exception`` forms).
    """
    payload = _hex_payload(data)
    decoded = _decode_revert(payload) if payload else None
    if decoded is not None:
        return decoded
    for form in _REASON_FORMS:
        found = form.search(message or "")
        if not found:
            continue
        reason = found.group(1).strip()
        # An ethers-style wrapper quotes the node's text: reason="execution reverted: x", ...
        if found.start() > 0 and message[found.start() - 1] == '"':
            reason = reason.split('"', 1)[0]
        hex_only = re.fullmatch(r"0x([0-9a-fA-F]+)", reason)
        if hex_only:
            return _decode_revert(hex_only.group(1)) or reason
        return None if reason.lower() in _NO_REASON else reason or None
    return None

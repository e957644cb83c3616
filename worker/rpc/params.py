"""Checking the positional parameters of the local methods.

Every helper raises ``RpcError`` with code -32602 (invalid params) and a message that names
the parameter, so a client sees exactly which argument it got wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from worker.domain.errors import ValidationError
from worker.domain.requests import MAX_DATA_BYTES, parse_address
from worker.rpc.errors import invalid_params

_HEX_RE = re.compile(r"^0x(?:[0-9a-fA-F]{2})*$")
#: Typed data documents larger than this are refused before they are parsed.
MAX_TYPED_DATA_CHARS = 256 * 1024


def positional(method: str, params: list[Any], required: int, optional: int = 0) -> list[Any]:
    """``params`` padded with ``None`` to ``required + optional`` entries.

    Raises -32602 when fewer than ``required`` or more than ``required + optional`` are given.
    """
    most = required + optional
    if not required <= len(params) <= most:
        wanted = str(required) if not optional else f"{required} to {most}"
        raise invalid_params(f"{method} takes {wanted} parameter(s), got {len(params)}")
    return params + [None] * (most - len(params))


def address(value: Any, name: str) -> str:
    """A checksummed address (all-lower/all-upper hex, or mixed case passing EIP-55)."""
    try:
        return parse_address(value, name)
    except ValidationError as exc:
        raise invalid_params(exc.message, exc.code) from None


def hex_bytes(value: Any, name: str) -> bytes:
    """The bytes of a 0x-prefixed, even-length hex string (at most 128 KiB)."""
    if not isinstance(value, str) or not _HEX_RE.match(value):
        raise invalid_params(f"`{name}` must be 0x-prefixed hex with an even number of digits")
    if (len(value) - 2) // 2 > MAX_DATA_BYTES:
        raise invalid_params(f"`{name}` exceeds {MAX_DATA_BYTES} bytes")
    return bytes.fromhex(value[2:])


def message_payload(value: Any, name: str) -> bytes | str:
    """A ``personal_sign`` message: 0x-hex is signed as its bytes, any other string as its
    UTF-8 text (what wallets do with a plain-text message)."""
    if isinstance(value, str) and value.startswith("0x") and _HEX_RE.match(value):
        return hex_bytes(value, name)
    if isinstance(value, str):
        if len(value) > MAX_DATA_BYTES:
            raise invalid_params(f"`{name}` exceeds {MAX_DATA_BYTES} characters")
        return value
    raise invalid_params(f"`{name}` must be a 0x-hex string or text")


def typed_data(value: Any, name: str) -> dict[str, Any]:
    """An EIP-712 document given as an object or as its JSON text (what wallets send)."""
    if isinstance(value, str):
        if len(value) > MAX_TYPED_DATA_CHARS:
            raise invalid_params(f"`{name}` exceeds {MAX_TYPED_DATA_CHARS} characters")
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise invalid_params(f"`{name}` is not valid JSON") from None
    if not isinstance(value, dict):
        raise invalid_params(f"`{name}` must be a JSON object (types, primaryType, domain, "
                             "message)")
    missing = [k for k in ("types", "primaryType", "domain", "message") if k not in value]
    if missing:
        raise invalid_params(f"`{name}` lacks {', '.join(missing)}")
    return value


def transaction(value: Any, method: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_params(f"{method} takes a transaction object")
    return dict(value)

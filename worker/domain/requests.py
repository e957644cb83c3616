"""Validation of transaction requests, shared by the REST API and JSON-RPC.

``parse_transaction_request(body, ...)`` turns untrusted JSON into a ``TxRequest`` or raises
``ValidationError`` with a stable code naming the offending field. It has no side effects:
a request that fails here is neither stored nor enqueued.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from eth_utils import to_checksum_address

from worker.domain.errors import ValidationError
from worker.domain.records import TxRequest

UINT256_MAX = 2**256 - 1
MAX_DATA_BYTES = 128 * 1024
MAX_ACCESS_LIST_ENTRIES = 256
_HEX_RE = re.compile(r"^0x([0-9a-fA-F]{2})*$")
_ADDR_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_DECIMAL_RE = re.compile(r"^[0-9]{1,80}$")
_HEX_INT_RE = re.compile(r"^0x[0-9a-fA-F]{1,64}$")

TX_FIELDS = frozenset({
    "from", "to", "value", "data", "input", "gas", "gasPrice", "maxFeePerGas",
    "maxPriorityFeePerGas", "type", "accessList", "chainId", "nonce",
})
EXTRA_FIELDS = frozenset({"metadata", "webhookUrl"})


def parse_address(value: Any, field: str) -> str:
    """A checksummed address. All-lower or all-upper hex is accepted as is; mixed case must
    pass the EIP-55 checksum (a typo in a mixed-case address is caught, not signed for)."""
    if not isinstance(value, str) or not _ADDR_RE.match(value):
        raise ValidationError("invalid_address", f"`{field}` must be a 0x-prefixed 20-byte "
                              "hex address")
    checksummed = _checksummed(value.lower())
    body = value[2:]
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise ValidationError("invalid_address", f"`{field}` has mixed case that fails the "
                              "EIP-55 checksum")
    return checksummed


@functools.lru_cache(maxsize=4096)
def _checksummed(lower: str) -> str:
    # A keccak per call; a service sees the same few senders and recipients again and again.
    return str(to_checksum_address(lower))


def parse_uint(value: Any, field: str, maximum: int = UINT256_MAX) -> int:
    """An unsigned integer given as a JSON integer, a decimal string or a 0x-hex string."""
    if isinstance(value, bool):
        raise ValidationError("invalid_field", f"`{field}` must be an integer, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DECIMAL_RE.match(value):
        number = int(value)
    elif isinstance(value, str) and _HEX_INT_RE.match(value):
        number = int(value, 16)
    else:
        raise ValidationError("invalid_field", f"`{field}` must be a non-negative integer "
                              "(number, decimal string or 0x-hex)")
    if number < 0:
        raise ValidationError("invalid_field", f"`{field}` must not be negative")
    if number > maximum:
        raise ValidationError("invalid_field", f"`{field}` exceeds {maximum}")
    return number


def parse_hex_data(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _HEX_RE.match(value):
        raise ValidationError("invalid_field", f"`{field}` must be 0x-prefixed hex with an "
                              "even number of digits")
    if (len(value) - 2) // 2 > MAX_DATA_BYTES:
        raise ValidationError("invalid_field", f"`{field}` exceeds {MAX_DATA_BYTES} bytes")
    return value.lower()


def _parse_access_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ACCESS_LIST_ENTRIES:
        raise ValidationError("invalid_field", "`accessList` must be a list of at most "
                              f"{MAX_ACCESS_LIST_ENTRIES} entries")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"address", "storageKeys"}:
            raise ValidationError("invalid_field", f"`accessList[{i}]` must have exactly "
                                  "`address` and `storageKeys`")
        keys = entry["storageKeys"]
        if not isinstance(keys, list) or not all(
                isinstance(k, str) and re.fullmatch(r"0x[0-9a-fA-F]{64}", k) for k in keys):
            raise ValidationError("invalid_field", f"`accessList[{i}].storageKeys` must be "
                                  "32-byte hex strings")
        out.append({"address": parse_address(entry["address"], f"accessList[{i}].address"),
                    "storageKeys": [k.lower() for k in keys]})
    return out


def _check_fees(req: TxRequest) -> None:
    legacy_price = req.gas_price is not None
    dynamic = req.max_fee_per_gas is not None or req.max_priority_fee_per_gas is not None
    if legacy_price and dynamic:
        raise ValidationError("fee_conflict", "give either `gasPrice` or `maxFeePerGas` + "
                              "`maxPriorityFeePerGas`, not both")
    if dynamic and (req.max_fee_per_gas is None or req.max_priority_fee_per_gas is None):
        raise ValidationError("fee_conflict", "`maxFeePerGas` and `maxPriorityFeePerGas` "
                              "go together")
    if (req.max_fee_per_gas is not None and req.max_priority_fee_per_gas is not None
            and req.max_priority_fee_per_gas > req.max_fee_per_gas):
        raise ValidationError("fee_conflict", "`maxPriorityFeePerGas` exceeds `maxFeePerGas`")
    if req.type in (0, 1) and dynamic:
        raise ValidationError("fee_conflict", f"type {req.type} transactions take `gasPrice`, "
                              "not EIP-1559 fees")
    if req.type == 2 and legacy_price:
        raise ValidationError("fee_conflict", "type 2 transactions take `maxFeePerGas` and "
                              "`maxPriorityFeePerGas`, not `gasPrice`")
    if req.type == 0 and req.access_list is not None:
        raise ValidationError("fee_conflict", "type 0 transactions have no `accessList`")


def parse_transaction_request(
    body: Any,
    *,
    is_account: Callable[[str], bool],
    chain_id: int | None,
    allow_extra: bool = True,
    metadata_max_bytes: int = 4096,
) -> tuple[TxRequest, dict[str, Any] | None, str | None]:
    """Validate ``body`` and return ``(request, metadata, webhook_url)``.

    ``is_account(address)`` tells whether a checksummed address is a vault account;
    ``chain_id`` is the node's chain (a different ``chainId`` is refused). Unknown fields are
    refused so that typos do not silently change what is signed. Raises ``ValidationError``.
    """
    if not isinstance(body, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    allowed = TX_FIELDS | (EXTRA_FIELDS if allow_extra else frozenset())
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError("invalid_field", f"unknown field(s): {', '.join(unknown)}")
    if "nonce" in body:
        raise ValidationError("invalid_field", "`nonce` is assigned by kvsigner and cannot be "
                              "given")
    if "from" not in body:
        raise ValidationError("invalid_field", "`from` is required")
    sender = parse_address(body["from"], "from")
    if not is_account(sender):
        raise ValidationError("unknown_account", f"{sender} is not an account of the vault")
    if "data" in body and "input" in body and body["data"] != body["input"]:
        raise ValidationError("invalid_field", "`data` and `input` differ")
    req = TxRequest(sender=sender)
    if body.get("to") is not None:
        req.to = parse_address(body["to"], "to")
    if body.get("value") is not None:
        req.value = parse_uint(body["value"], "value")
    raw_data = body.get("data", body.get("input"))
    if raw_data is not None:
        req.data = parse_hex_data(raw_data, "data")
    if req.to is None and req.data == "0x":
        raise ValidationError("invalid_field", "a contract creation (no `to`) needs `data`")
    for key, attr, maximum in (("gas", "gas", 2**64 - 1), ("gasPrice", "gas_price", UINT256_MAX),
                               ("maxFeePerGas", "max_fee_per_gas", UINT256_MAX),
                               ("maxPriorityFeePerGas", "max_priority_fee_per_gas",
                                UINT256_MAX)):
        if body.get(key) is not None:
            setattr(req, attr, parse_uint(body[key], key, maximum))
    if req.gas is not None and req.gas < 21000:
        raise ValidationError("invalid_field", "`gas` is below the 21000 intrinsic minimum")
    if body.get("type") is not None:
        tx_type = parse_uint(body["type"], "type", 255)
        if tx_type not in (0, 1, 2):
            raise ValidationError("invalid_field", "`type` must be 0 (legacy), 1 (EIP-2930) "
                                  "or 2 (EIP-1559)")
        req.type = tx_type
    if body.get("accessList") is not None:
        req.access_list = _parse_access_list(body["accessList"])
    if body.get("chainId") is not None:
        req.chain_id = parse_uint(body["chainId"], "chainId", 2**64 - 1)
        if chain_id is not None and req.chain_id != chain_id:
            raise ValidationError("wrong_chain", f"chainId {req.chain_id} is not the node's "
                                  f"chain {chain_id}")
    _check_fees(req)
    metadata = body.get("metadata") if allow_extra else None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationError("invalid_field", "`metadata` must be a JSON object")
        if len(json.dumps(metadata, separators=(",", ":"))) > metadata_max_bytes:
            raise ValidationError("invalid_field", f"`metadata` exceeds {metadata_max_bytes} "
                                  "bytes")
    webhook_url = body.get("webhookUrl") if allow_extra else None
    if webhook_url is not None:
        webhook_url = _parse_http_url(webhook_url, "webhookUrl")
    return req, metadata, webhook_url


def _parse_http_url(value: Any, field: str) -> str:
    """An absolute http(s) URL with a host, at most 2048 characters (where it may point is
    decided by the webhook SSRF guard, not here)."""
    bad = ValidationError("invalid_field", f"`{field}` must be an absolute http(s) URL with a "
                          "host, at most 2048 characters")
    if not isinstance(value, str) or len(value) > 2048 or any(c.isspace() for c in value):
        raise bad
    try:
        parts = urlsplit(value)
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad
    return value

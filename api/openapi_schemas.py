"""Reusable OpenAPI 3.1 schemas (``components.schemas``) for the API's bodies.

They describe what ``worker.domain.requests`` accepts and what ``TxRecord.to_api()``,
``VaultAccount.to_dict()`` and ``api.status_report`` return. The error code enum is read
from ``ERROR_CODES`` so a new code is documented the moment it is declared.
"""

from __future__ import annotations

from typing import Any

from api.listing import MAX_LIMIT
from worker.domain.errors import ERROR_CODES
from worker.domain.records import Status
from worker.domain.requests import MAX_ACCESS_LIST_ENTRIES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: list[str] | None = None,
        closed: bool = False, description: str | None = None) -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_DECIMAL = {"type": "string", "pattern": "^[0-9]+$", "description": "decimal integer"}
_TIME = {"type": "string", "format": "date-time"}
_UINT = {
    "description": "Unsigned integer up to 2^256-1: a JSON integer, a decimal string or a "
                   "0x-prefixed hex string.",
    "oneOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": "^[0-9]{1,80}$"},
        {"type": "string", "pattern": "^0x[0-9a-fA-F]{1,64}$"},
    ],
}

SCHEMAS: dict[str, Schema] = {
    "Address": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$",
                "description": "20-byte hex address. Mixed case must pass the EIP-55 "
                               "checksum; responses are always checksummed."},
    "Hex": {"type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$",
            "description": "0x-prefixed hex with an even number of digits."},
    "UInt": _UINT,
    "AccessListEntry": obj({
        "address": ref("Address"),
        "storageKeys": {"type": "array",
                        "items": {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"}},
    }, ["address", "storageKeys"], closed=True),
    "TransactionRequest": obj({
        "from": {**ref("Address"), "description": "An enabled account of the vault."},
        "to": {"anyOf": [ref("Address"), {"type": "null"}],
               "description": "Recipient; absent or null for a contract creation."},
        "value": {**ref("UInt"), "description": "Wei to send (default 0)."},
        "data": {**ref("Hex"), "description": "Call data; required without `to`."},
        "input": {**ref("Hex"), "description": "Alias of `data`; if both, they must match."},
        "gas": {**ref("UInt"), "description": "Gas limit (>= 21000); default: estimated "
                                              "plus a margin."},
        "gasPrice": {**ref("UInt"), "description": "Legacy/EIP-2930 fee; excludes the "
                                                   "EIP-1559 fields."},
        "maxFeePerGas": {**ref("UInt"), "description": "EIP-1559; give with "
                                                       "`maxPriorityFeePerGas`."},
        "maxPriorityFeePerGas": {**ref("UInt"), "description": "EIP-1559; at most "
                                                               "`maxFeePerGas`."},
        "type": {"description": "0 legacy, 1 EIP-2930, 2 EIP-1559; default chosen from "
                                "the fee fields and the chain.",
                 "oneOf": [{"type": "integer", "enum": [0, 1, 2]},
                           {"type": "string", "pattern": "^(0x)?0*[0-2]$"}]},
        "accessList": {"type": "array", "maxItems": MAX_ACCESS_LIST_ENTRIES,
                       "items": ref("AccessListEntry")},
        "chainId": {**ref("UInt"), "description": "Must equal the node's chain if given."},
        "metadata": {"type": "object", "description": "Free JSON stored with the record "
                                                      "(KVSIGNER_METADATA_MAX_BYTES)."},
        "webhookUrl": {"type": "string", "format": "uri", "pattern": "^https?://",
                       "maxLength": 2048,
                       "description": "Receives signed status events of this transaction."},
    }, ["from"], closed=True, description="Unknown fields and `nonce` are refused."),
    "HistoryEntry": obj({"status": _STR, "at": _TIME, "note": _STR}),
    "Transaction": obj({
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "chainId": _INT,
        "request": {"type": "object", "description": "The validated request (numbers as "
                                                     "decimal strings)."},
        "from": ref("Address"),
        "to": nullable(ref("Address")),
        "nonce": nullable(_INT),
        "gas": nullable(_DECIMAL),
        "type": nullable({"type": "integer", "enum": [0, 1, 2]}),
        "fees": obj({"gasPrice": _DECIMAL, "maxFeePerGas": _DECIMAL,
                     "maxPriorityFeePerGas": _DECIMAL}),
        "hash": nullable({"type": "string"}),
        "hashes": {"type": "array", "items": _STR,
                   "description": "Every hash signed for this nonce: the original and each "
                                  "fee bump or cancellation."},
        "bumps": {**_INT, "description": "How many replacements were signed."},
        "cancelRequested": {"type": "boolean"},
        "kind": {"type": "string", "enum": ["request", "filler"],
                 "description": "`filler`: a 0-value self-transfer kvsigner sent to fill a "
                                "nonce gap."},
        "receipt": nullable({"type": "object"}),
        "error": nullable(obj({"code": _STR, "message": _STR})),
        "metadata": nullable({"type": "object"}),
        "webhookUrl": nullable(_STR),
        "idempotencyKey": nullable(_STR),
        "requestId": nullable({**_STR, "description": "The X-Request-Id of the request that "
                               "created it."}),
        "createdAt": _TIME,
        "updatedAt": _TIME,
        "history": {"type": "array", "items": ref("HistoryEntry")},
    }, ["id", "status", "chainId", "from", "createdAt", "updatedAt"]),
    "TransactionList": obj({
        "transactions": {"type": "array", "items": ref("Transaction"),
                         "maxItems": MAX_LIMIT},
        "nextCursor": nullable({"type": "string"}),
    }, ["transactions", "nextCursor"]),
    "Account": obj({"address": ref("Address"), "keyName": _STR, "keyVersion": _STR,
                    "keyId": _STR, "enabled": {"type": "boolean"}},
                   ["address", "keyName", "keyVersion", "keyId", "enabled"]),
    "AccountList": obj({"accounts": {"type": "array", "items": ref("Account")}},
                       ["accounts"]),
    "Health": obj({"status": {"type": "string", "enum": ["ok"]}}, ["status"]),
    "Check": obj({"ok": {"type": "boolean"}, "ms": _INT,
                  "error": {"type": "string", "description": "An error code or an "
                                                             "exception class name."}},
                 ["ok", "ms"]),
    "Readiness": obj({
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "checks": obj({name: ref("Check") for name in ("redis", "node", "vault")}),
    }, ["status", "checks"]),
    "Reachability": obj({"reachable": {"type": "boolean"}, "error": _STR}, ["reachable"]),
    "Status": obj({
        "version": _STR,
        "chainId": nullable(_INT),
        "latestBlock": nullable(_INT),
        "node": {"allOf": [ref("Reachability"), obj({"url": nullable(_STR)})]},
        "redis": ref("Reachability"),
        "vault": {"allOf": [ref("Reachability"),
                            obj({"url": nullable(_STR), "accounts": nullable(_INT)})]},
        "queues": nullable({"type": "object", "additionalProperties": _INT}),
        "workers": nullable(_INT),
        "transactions": nullable({"type": "object", "additionalProperties": _INT}),
        "interfaces": obj({k: _STR for k in ("rest", "rpc", "ws", "openapi")},
                          ["rest", "rpc", "ws", "openapi"]),
    }, ["version", "chainId", "latestBlock", "node", "redis", "vault", "queues", "workers",
        "transactions", "interfaces"]),
    "Error": obj({
        "error": obj({
            "code": {"type": "string", "enum": sorted(ERROR_CODES)},
            "message": _STR,
            "details": {"type": "object"},
        }, ["code", "message"]),
    }, ["error"]),
}

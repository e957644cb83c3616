"""The operator part of the OpenAPI document: ``/audit`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

from api.audit import DEFAULT_LIMIT, MAX_LIMIT
from api.openapi_parts import body, errors, operation, query
from api.openapi_schemas import Schema, nullable, obj, ref
from worker.audit.query import STATUSES

_STR = {"type": "string"}
_HEX32 = {"type": "string", "pattern": "^0x[0-9a-f]{64}$"}
_TIME_PARAM = {"oneOf": [{"type": "string", "format": "date-time"},
                         {"type": "string", "pattern": "^[0-9]{1,15}$"}]}

OPS_SCHEMAS: dict[str, Schema] = {
    "AuditEntry": obj({
        "id": {"type": "string", "pattern": "^[0-9]+-[0-9]+$",
               "description": "Stream id: the Redis time in ms, then a sequence number."},
        "time": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": list(STATUSES),
                   "description": "`requested` is written before the vault is called; "
                                  "`signed` or `failed` after; `result` once the raw "
                                  "transaction is assembled."},
        "signingId": {**_STR, "description": "Links the entries of one signature."},
        "purpose": {**nullable(_STR), "description": "transaction, replacement, "
                    "cancellation, filler, or what the caller declared (personal_sign, "
                    "typed_data, ...)."},
        "txId": nullable(_STR), "requestId": nullable(_STR),
        "apiKey": {**nullable(_STR), "description": "The API key's name (never the key)."},
        "address": nullable(ref("Address")), "keyName": nullable(_STR),
        "keyVersion": nullable(_STR), "keyId": nullable(_STR),
        "digest": {**nullable(_HEX32), "description": "The 32 bytes given to the vault."},
        "r": nullable(_HEX32), "s": nullable(_HEX32),
        "v": {**nullable({"type": "integer", "enum": [27, 28]}),
              "description": "27 + recovery id."},
        "signature": {**nullable({"type": "string", "pattern": "^0x[0-9a-f]{130}$"}),
                      "description": "`r || s || v`, 65 bytes: what personal_sign and "
                                     "typed-data signing return."},
        "txHash": {**nullable(_HEX32), "description": "`result` entries: the transaction "
                                                      "hash."},
        "error": {**nullable(_STR), "description": "`failed` entries: the error code."},
        "durationMs": nullable({"type": "integer", "minimum": 0}),
        "process": {**nullable(_STR), "description": "host:pid that signed."},
    }, ["id", "time", "status", "signingId"]),
    "AuditPage": obj({
        "entries": {"type": "array", "items": ref("AuditEntry"), "maxItems": MAX_LIMIT},
        "nextCursor": nullable(_STR),
    }, ["entries", "nextCursor"]),
}

OPS_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/audit": {
        "get": operation(
            "listAudit", "operations", "The audit log of vault signatures, newest first",
            description="Every signature the vault made for kvsigner, append-only. One "
                        "request scans a bounded number of entries, so a page may hold fewer "
                        "than `limit` entries (even none) while `nextCursor` is set: follow "
                        "it until it is null. `kvsigner audit export` prints the same "
                        "entries as JSON lines, oldest first.",
            parameters=[
                query("address", "Only this account.", ref("Address")),
                query("key", "Only this vault key name.", _STR),
                query("txId", "Only this transaction record.", _STR),
                query("status", "Only this entry status.",
                      {"type": "string", "enum": list(STATUSES)}),
                query("purpose", "Only this purpose.", _STR),
                query("since", "From this time, inclusive: RFC 3339 with a time zone, or "
                               "milliseconds since the epoch.", _TIME_PARAM),
                query("until", "Up to this time, inclusive (same forms).", _TIME_PARAM),
                query("limit", f"Page size (default {DEFAULT_LIMIT}).",
                      {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                       "default": DEFAULT_LIMIT}),
                query("cursor", "`nextCursor` of the previous page (same filters).", _STR),
            ],
            responses={"200": body("AuditPage", "One page."),
                       **errors({400: "invalid_field, invalid_address, invalid_cursor",
                                 503: "audit_unavailable"})}),
    },
    "/metrics": {
        "get": operation(
            "metrics", "operations", "Prometheus metrics of the whole deployment",
            description="Text exposition format 0.0.4. Worker metrics are kept in Redis, so "
                        "any API process shows those of every worker. Needs an API key "
                        "unless KVSIGNER_OPEN_STATUS is true.",
            responses={"200": {"description": "The metrics.", "content": {
                "text/plain": {"schema": {"type": "string"}}}}}),
    },
}

"""The OpenAPI 3.1 document served at ``/openapi.json``.

``PATHS`` has one entry per route, keyed by its OpenAPI path (``/transactions/{tx_id}`` for
Flask's ``/transactions/<tx_id>``) and then by lower-case method. A test compares it with
the app's ``url_map`` both ways, so a route added without an entry here (or an entry without
a route) fails the build: adding an endpoint means adding one entry.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from api.auth import OPEN_PATHS
from api.listing import DEFAULT_LIMIT, MAX_LIMIT
from api.openapi_ops import OPS_PATHS, OPS_SCHEMAS
from api.openapi_parts import JSON, body, errors, operation, query
from api.openapi_rpc import RPC_PATHS, RPC_SCHEMAS
from api.openapi_schemas import SCHEMAS, ref
from api.openapi_webhooks import WEBHOOK_PATHS, WEBHOOK_SCHEMAS
from api.status_report import version
from worker.domain.records import Status
from worker.submit import MAX_IDEMPOTENCY_KEY

_TX_ID = {"name": "tx_id", "in": "path", "required": True,
          "description": "The id returned by POST /transactions (32 lower-case hex digits).",
          "schema": {"type": "string"}}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes the request safe to repeat: the same key with the same body "
                   "returns the original transaction (200, `Idempotent-Replayed: true`) "
                   "without sending again; with another body it is refused (409).",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
}
_LOCATION = {"Location": {"description": "/transactions/{id} of the transaction.",
                          "schema": {"type": "string"}}}
_REPLAYED = {"Idempotent-Replayed": {"description": "`true` on a repeat.",
                                     "schema": {"type": "string", "enum": ["true"]}}}
_BAD_TX = ("invalid_json, invalid_field, invalid_address, unknown_account, fee_conflict, "
           "wrong_chain")
_DEPS = "node_unavailable, vault_unavailable, vault_throttled, vault_not_configured"

PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/transactions": {
        "post": operation(
            "createTransaction", "transactions", "Queue a transaction for signing and sending",
            description="Validates and stores the transaction as `queued`, then hands its id "
                        "to the workers. Nothing is stored when validation fails.",
            parameters=[{"$ref": "#/components/parameters/IdempotencyKey"}],
            request={"required": True,
                     "content": {JSON: {"schema": ref("TransactionRequest")}}},
            responses={
                "202": body("Transaction", "Accepted and queued.", _LOCATION),
                "200": body("Transaction", "An idempotent repeat: the original transaction.",
                            {**_LOCATION, **_REPLAYED}),
                **errors({400: _BAD_TX, 409: "idempotency_conflict", 413: "body_too_large",
                          415: "unsupported_media_type",
                          502: "vault_auth_failed, vault_forbidden", 503: _DEPS}),
            }),
        "get": operation(
            "listTransactions", "transactions", "List transactions, newest first",
            parameters=[
                query("from", "Only this sender.", ref("Address")),
                query("status", "Only this status.",
                      {"type": "string", "enum": [s.value for s in Status]}),
                query("limit", f"Page size (default {DEFAULT_LIMIT}).",
                      {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                       "default": DEFAULT_LIMIT}),
                query("cursor", "`nextCursor` of the previous page.", {"type": "string"}),
            ],
            responses={"200": body("TransactionList", "One page; `nextCursor` is null on "
                                                      "the last."),
                       **errors({400: "invalid_field, invalid_address, invalid_cursor"})}),
    },
    "/transactions/{tx_id}": {
        "get": operation("getTransaction", "transactions", "One transaction and its history",
                         parameters=[_TX_ID],
                         responses={"200": body("Transaction", "The transaction."),
                                    **errors({404: "not_found"})}),
    },
    "/transactions/{tx_id}/cancel": {
        "post": operation(
            "cancelTransaction", "transactions", "Cancel a transaction",
            description="Not yet broadcast: withdrawn at once (`cancelled`), its nonce handed "
                        "to the sender's next transaction. Broadcast: replaced by a 0-value "
                        "self-transfer with the same nonce at higher fees; the record ends "
                        "`cancelled` when that is mined, or `confirmed`/`reverted` with a "
                        "note if the original won.",
            parameters=[_TX_ID],
            responses={"202": body("Transaction", "Withdrawn, or the cancellation sent."),
                       **errors({404: "not_found", 409: "not_cancellable",
                                 503: "node_unavailable"})}),
    },
    "/accounts": {
        "get": operation("listAccounts", "accounts", "The vault's enabled signing accounts",
                         responses={"200": body("AccountList", "Accounts by key name."),
                                    **errors({502: "vault_auth_failed, vault_forbidden",
                                              503: _DEPS})}),
    },
    "/healthz": {
        "get": operation("healthz", "operations", "Liveness: the process answers",
                         description="Asks no dependency.",
                         responses={"200": body("Health", "Always.")}),
    },
    "/readyz": {
        "get": operation("readyz", "operations", "Readiness: Redis, node and vault answer",
                         description="Each check is bounded to about 2 seconds.",
                         responses={"200": body("Readiness", "Every dependency answered."),
                                    "503": body("Readiness", "At least one did not.")}),
    },
    "/status": {
        "get": operation("status", "operations", "Versions, dependencies, queues, counts",
                         description="A dependency that fails is shown as unreachable; "
                                     "this endpoint itself does not fail for it.",
                         responses={"200": body("Status", "The service's state.")}),
    },
    "/openapi.json": {
        "get": operation("openapi", "operations", "This document",
                         responses={"200": {"description": "OpenAPI 3.1 document.",
                                            "content": {JSON: {"schema": {
                                                "type": "object"}}}}}),
    },
}

_COMMON_ERRORS = {
    "404": body("Error", "Error code: not_found (unknown route)."),
    "405": body("Error", "Error code: method_not_allowed."),
    "500": body("Error", "Error code: internal_error."),
}


_AUTH_ERRORS = {
    "401": body("Error", "Error code: unauthorized (no, unknown or revoked API key)."),
    "403": body("Error", "Error code: forbidden (a read-only key, or a sender the key may "
                         "not use)."),
    "429": body("Error", "Error code: rate_limited; see the Retry-After header."),
}


@functools.cache
def _document() -> dict[str, Any]:
    paths = copy.deepcopy({**PATHS, **WEBHOOK_PATHS, **RPC_PATHS, **OPS_PATHS})
    for path, operations in paths.items():
        for op in operations.values():
            for status, response in _COMMON_ERRORS.items():
                op["responses"].setdefault(status, response)
            if path in OPEN_PATHS:
                op["security"] = []  # no API key needed
            else:
                for status, response in _AUTH_ERRORS.items():
                    op["responses"].setdefault(status, response)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kvsigner",
            "version": version(),
            "description": "Signs and sends Ethereum transactions with keys held in Azure "
                           "Key Vault. Every error body is `{\"error\": {\"code\", "
                           "\"message\"}}` with a stable code.",
        },
        "tags": [{"name": "transactions"}, {"name": "accounts"}, {"name": "webhooks"},
                 {"name": "json-rpc"},
                 {"name": "operations"}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **WEBHOOK_SCHEMAS, **RPC_SCHEMAS, **OPS_SCHEMAS},
            "parameters": {"IdempotencyKey": _IDEMPOTENCY_KEY},
            "securitySchemes": {"apiKey": {
                "type": "http", "scheme": "bearer",
                "description": "An API key from `kvsigner apikey create NAME`, sent as "
                               "`Authorization: Bearer <key>`."}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may modify it)."""
    return copy.deepcopy(_document())

"""The JSON-RPC part of the OpenAPI document: ``/rpc`` (HTTP) and ``/ws`` (WebSocket)."""

from __future__ import annotations

from typing import Any

from api.openapi_parts import JSON, operation
from api.openapi_schemas import Schema

_LOCAL = ("eth_accounts, personal_listAccounts, eth_sendTransaction, eth_signTransaction, "
          "eth_sign, personal_sign, eth_signTypedData, eth_signTypedData_v4")

RPC_SCHEMAS: dict[str, Schema] = {
    "JsonRpcRequest": {
        "type": "object", "required": ["jsonrpc", "method"],
        "properties": {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer",
                                                                      "null"]},
                       "method": {"type": "string"},
                       "params": {"type": ["array", "object"]}},
    },
    "JsonRpcResponse": {
        "type": "object", "required": ["jsonrpc"],
        "properties": {"jsonrpc": {"const": "2.0"}, "id": {}, "result": {},
                       "error": {"type": "object", "properties": {
                           "code": {"type": "integer"}, "message": {"type": "string"},
                           "data": {"description": "kvsigner errors carry `code` (a stable "
                                                   "error code) and, for sends, `id` (the "
                                                   "transaction record)."}}}},
    },
}

_BODY = {"oneOf": [{"$ref": "#/components/schemas/JsonRpcRequest"},
                   {"type": "array", "items": {"$ref": "#/components/schemas/JsonRpcRequest"}}]}
_ANSWER = {"oneOf": [{"$ref": "#/components/schemas/JsonRpcResponse"},
                     {"type": "array",
                      "items": {"$ref": "#/components/schemas/JsonRpcResponse"}}]}

RPC_PATHS: dict[str, dict[str, dict[str, Any]]] = {
    "/rpc": {
        "post": operation(
            "jsonRpc", "json-rpc", "Ethereum JSON-RPC with vault signing",
            description=f"Served by kvsigner: {_LOCAL}. `eth_sendTransaction` goes through "
                        "the same pipeline as POST /transactions and answers with the hash "
                        "once broadcast. Every other method (and each element of a batch) is "
                        "passed to the node unchanged, except the prefixes in "
                        "KVSIGNER_RPC_PROXY_DENY. Errors are JSON-RPC errors in a 200 answer.",
            request={"required": True, "content": {JSON: {"schema": _BODY}}},
            responses={"200": {"description": "The JSON-RPC answer (or batch of answers).",
                               "content": {JSON: {"schema": _ANSWER}}},
                       "204": {"description": "Only notifications were sent."}}),
    },
    "/ws": {
        "get": operation(
            "jsonRpcWebSocket", "json-rpc", "JSON-RPC over WebSocket",
            description="Upgrade to a WebSocket speaking the same JSON-RPC as /rpc; "
                        "`eth_subscribe`/`eth_unsubscribe` are relayed to the node's "
                        "WebSocket (newHeads, logs, ...). Handshakes with an Origin header "
                        "need KVSIGNER_RPC_WS_ORIGINS.",
            responses={"101": {"description": "Switching protocols."},
                       "403": {"description": "Origin not allowed (forbidden_origin)."},
                       "426": {"description": "A plain HTTP request: upgrade required."}}),
    },
}

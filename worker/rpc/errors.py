"""JSON-RPC error codes, the ``RpcError`` exception, and the one map from kvsigner's errors.

Codes follow JSON-RPC 2.0 and the node conventions clients already handle:

``-32700`` parse error: the body is not JSON
``-32600`` invalid request: not a request object (or an empty / oversized batch)
``-32601`` method not available on this transport (only ``eth_subscribe`` over HTTP; any
          other unknown method is the node's to answer, so kvsigner never claims it)
``-32602`` invalid params: the request's parameters are malformed or contradict each other
``-32603`` internal error: an unexpected failure (details are logged, never returned)
``-32000`` server error: the request was well formed but could not be carried out (unknown
          account, reverting call, vault or node failure, send timeout)

Every error raised from a ``KvsignerError`` carries ``data.code``, kvsigner's stable error
code from ``worker.domain.errors.ERROR_CODES`` (plus ``send_timeout`` for an
``eth_sendTransaction`` that was accepted but not yet broadcast).
"""

from __future__ import annotations

from typing import Any

from worker.domain.errors import KvsignerError, ValidationError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000

#: ``data.code`` of an eth_sendTransaction that was accepted but not broadcast in time.
SEND_TIMEOUT = "send_timeout"

#: Validation failures that are about the signer's state, not the shape of the params: the
#: request is well formed, the account is just not one of ours (geth answers -32000 too).
_SERVER_SIDE_VALIDATION = frozenset({"unknown_account"})


class RpcError(Exception):
    """An error to send back as a JSON-RPC error object. ``data`` must be JSON-safe."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body

    def __repr__(self) -> str:
        return f"RpcError({self.code}, {self.message!r})"


def invalid_params(message: str, code: str = "invalid_field") -> RpcError:
    return RpcError(INVALID_PARAMS, message, {"code": code})


def from_kvsigner(exc: KvsignerError) -> RpcError:
    """The JSON-RPC form of ``exc``: bad input is -32602, everything else -32000; its
    message is kept (kvsigner's messages never hold secrets) and ``data`` names its code."""
    data: dict[str, Any] = {"code": exc.code}
    if exc.details:
        data["details"] = exc.details
    if isinstance(exc, ValidationError) and exc.code not in _SERVER_SIDE_VALIDATION:
        return RpcError(INVALID_PARAMS, exc.message, data)
    message = exc.message
    if exc.code == "unknown_account" and not message.lower().startswith("unknown account"):
        message = f"unknown account: {message}"
    return RpcError(SERVER_ERROR, message, data)


def error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_dict()}


def result_response(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}

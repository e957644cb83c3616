"""JSON-RPC 2.0 dispatch: request bodies in, response bodies out.

``Dispatcher.handle_text`` parses a body, checks each request's shape, runs local methods
(``methods``) and sends every other method to the node through the proxy, then serialises
the answer. Rules (JSON-RPC 2.0):

* a body that is not JSON -> one -32700 error (id null);
* an empty batch, a batch over ``max_batch`` or a request that is not an object with
  ``"jsonrpc": "2.0"``, a string ``method``, a string/number/null ``id`` and array/object
  ``params`` -> -32600 (with the request's id when it had a usable one);
* a notification (no ``id``) is carried out but gets no response; a body of notifications
  only answers ``None``;
* a batch answers one response per request with an id, in the order of the requests; local
  requests run one after another, the proxied ones go to the node as one batch.

Nothing escapes as an exception: ``RpcError`` and ``KvsignerError`` become their error
objects, anything else -32603 with a generic message (the traceback is logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from worker.domain.errors import KvsignerError, ValidationError
from worker.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
    error_response,
    from_kvsigner,
    result_response,
)
from worker.rpc.methods import Handler

log = logging.getLogger(__name__)
DEFAULT_MAX_BATCH = 100


class Proxy(Protocol):
    def forward(self, request: dict[str, Any]) -> dict[str, Any] | None: ...

    def forward_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any] | None]: ...


class _Invalid(Exception):
    def __init__(self, request_id: Any, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id


def _usable_id(request: dict[str, Any]) -> Any:
    rid = request.get("id")
    ok = rid is None or (isinstance(rid, str | int | float) and not isinstance(rid, bool))
    return rid if ok else None


def _check(request: Any) -> dict[str, Any]:
    """``request`` if it is a well-formed request object; raises ``_Invalid``."""
    if not isinstance(request, dict):
        raise _Invalid(None, "a request must be a JSON object")
    rid = _usable_id(request)
    if "id" in request and rid is None and request["id"] is not None:
        raise _Invalid(None, "`id` must be a string, a number or null")
    if request.get("jsonrpc") != "2.0":
        raise _Invalid(rid, '`jsonrpc` must be "2.0"')
    if not isinstance(request.get("method"), str) or not request["method"]:
        raise _Invalid(rid, "`method` must be a non-empty string")
    if "params" in request and not isinstance(request["params"], list | dict):
        raise _Invalid(rid, "`params` must be an array or an object")
    return request


def _parse(text: bytes | str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_constants)


class Dispatcher:
    """Answers JSON-RPC bodies with ``methods`` (local) and ``proxy`` (everything else)."""

    def __init__(self, methods: Mapping[str, Handler], proxy: Proxy,
                 max_batch: int = DEFAULT_MAX_BATCH, deny_prefixes: tuple[str, ...] = (),
                 guard: Callable[[Any], str | None] | None = None) -> None:
        self.methods = methods
        self.proxy = proxy
        self.max_batch = max_batch
        # Says why the caller may not send a parsed body (an API key limited to reading or
        # to some senders), or None; a refused body is answered with one error.
        self.guard = guard
        # Node administration and dev-chain controls must not be reachable through the
        # signer's endpoint (they could reset a chain or unlock node-held accounts).
        self.deny_prefixes = deny_prefixes

    def _denied(self, req: dict[str, Any]) -> dict[str, Any] | None:
        """The error answer to a method that may not be proxied (None for a notification)."""
        answer = error_response(req.get("id"), RpcError(
            METHOD_NOT_FOUND, f"{req['method']} is not available through kvsigner"))
        return answer if "id" in req else None

    def handle_text(self, text: bytes | str) -> str | None:
        """The serialised response to ``text``, or ``None`` when nothing is to be answered."""
        response = self.answer(text)
        return None if response is None else json.dumps(response, separators=(",", ":"))

    def answer(self, text: bytes | str) -> Any:
        """The response object (or list) to the body ``text``; ``None`` for notifications."""
        try:
            payload = _parse(text)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return error_response(None, RpcError(PARSE_ERROR, "parse error: the body is not "
                                                 "valid JSON"))
        return self.handle(payload)

    def handle(self, payload: Any) -> Any:
        """The response object (or list) for a parsed body; ``None`` for notifications."""
        refusal = self.guard(payload) if self.guard is not None else None
        if refusal:
            rid = _usable_id(payload) if isinstance(payload, dict) else None
            return error_response(rid, RpcError(SERVER_ERROR, refusal, {"code": "forbidden"}))
        if not isinstance(payload, list):
            return self._one(payload)
        if not payload:
            return error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
        if len(payload) > self.max_batch:
            return error_response(None, RpcError(
                INVALID_REQUEST, f"batch of {len(payload)} requests exceeds the limit of "
                f"{self.max_batch}"))
        return self._batch(payload)

    def _one(self, request: Any) -> dict[str, Any] | None:
        try:
            req = _check(request)
        except _Invalid as exc:
            return error_response(exc.request_id, RpcError(INVALID_REQUEST, str(exc)))
        if req["method"] in self.methods:
            return self._local(req)
        if self.deny_prefixes and req["method"].startswith(self.deny_prefixes):
            return self._denied(req)
        return self.proxy.forward(req)

    def _batch(self, batch: list[Any]) -> list[dict[str, Any]] | None:
        slots: list[dict[str, Any] | None] = [None] * len(batch)
        proxied: list[tuple[int, dict[str, Any]]] = []
        for i, request in enumerate(batch):
            try:
                req = _check(request)
            except _Invalid as exc:
                slots[i] = error_response(exc.request_id, RpcError(INVALID_REQUEST, str(exc)))
                continue
            if req["method"] in self.methods:
                slots[i] = self._local(req)
            elif self.deny_prefixes and req["method"].startswith(self.deny_prefixes):
                slots[i] = self._denied(req)
            else:
                proxied.append((i, req))
        if proxied:
            answers = self.proxy.forward_batch([req for _, req in proxied])
            for (i, _), answer in zip(proxied, answers, strict=True):
                slots[i] = answer
        out = [s for s in slots if s is not None]
        return out or None

    def _local(self, req: dict[str, Any]) -> dict[str, Any] | None:
        rid = req.get("id")
        try:
            params = req.get("params", [])
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, f"{req['method']} takes positional params "
                               "(an array)")
            result = self.methods[req["method"]](params)
            response = result_response(rid, result)
        except RpcError as exc:
            response = error_response(rid, exc)
        except KvsignerError as exc:
            if not isinstance(exc, ValidationError):
                log.warning("JSON-RPC %s failed: %s: %s", req["method"], exc.code, exc.message)
            response = error_response(rid, from_kvsigner(exc))
        except Exception:
            log.exception("JSON-RPC %s failed", req["method"])
            response = error_response(rid, RpcError(INTERNAL_ERROR, "internal error; see the "
                                                    "service logs"))
        return response if "id" in req else None

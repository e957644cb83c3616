"""Passing requests to the node unchanged.

A single request goes to the node as the client sent it (same id, method and params) and the
node's answer comes back as it is. The proxied part of a batch goes as one batch; its ids are
replaced by their positions on the way out and restored on the way back, so responses are
matched correctly whatever order the node answers in and even when a client reused an id.
When the node cannot be reached, each request gets a -32000 error with ``data.code =
"node_unavailable"`` instead.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from worker.rpc.errors import SERVER_ERROR, RpcError, error_response

log = logging.getLogger(__name__)


class RawNode(Protocol):
    """What the proxy needs of ``worker.chain.node.NodeClient``."""

    def raw(self, payload: dict[str, Any] | list[Any]) -> Any: ...


def _unavailable(detail: str) -> RpcError:
    return RpcError(SERVER_ERROR, f"the Ethereum node could not be reached: {detail}",
                    {"code": "node_unavailable"})


class NodeProxy:
    """Forwards JSON-RPC requests with ``node.raw``. Thread-safe if the node client is."""

    def __init__(self, node: RawNode) -> None:
        self.node = node

    def _post(self, payload: dict[str, Any] | list[Any]) -> Any:
        try:
            return self.node.raw(payload)
        except Exception as exc:
            # Transport errors (refused, timeout, HTTP 5xx, non-JSON body) all mean the same
            # to the client; the exception text can hold the node URL, so it is only logged.
            log.warning("node request failed: %s", type(exc).__name__)
            raise _unavailable(type(exc).__name__) from None

    def forward(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The node's response to ``request`` (``None`` for a notification)."""
        notification = "id" not in request
        try:
            answer = self._post(request)
        except RpcError as exc:
            return None if notification else error_response(request.get("id"), exc)
        if notification:
            return None
        if not isinstance(answer, dict):
            return error_response(request.get("id"), _unavailable("unexpected answer"))
        return answer

    def forward_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """One response per request, in order (``None`` for notifications)."""
        outgoing = [dict(r, id=i) if "id" in r else r for i, r in enumerate(requests)]
        try:
            answer = self._post(outgoing)
        except RpcError as exc:
            return [None if "id" not in r else error_response(r["id"], exc) for r in requests]
        by_position: dict[int, dict[str, Any]] = {}
        if isinstance(answer, list):
            for item in answer:
                if isinstance(item, dict) and type(item.get("id")) is int:
                    by_position.setdefault(item["id"], item)
        elif isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            # A node that refuses the whole batch (e.g. too large) answers one error.
            err = answer["error"]
            code = err.get("code")
            error = RpcError(code if type(code) is int else SERVER_ERROR,
                             str(err.get("message", "")), err.get("data"))
            return [None if "id" not in r else error_response(r["id"], error)
                    for r in requests]
        out: list[dict[str, Any] | None] = []
        for i, request in enumerate(requests):
            if "id" not in request:
                out.append(None)
            elif i in by_position:
                out.append(dict(by_position[i], id=request["id"]))
            else:
                out.append(error_response(request["id"], _unavailable("no answer for this "
                                                                       "request")))
        return out

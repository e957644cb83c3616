"""Plain request and response values passed between the HTTP layer and the API handlers.

Handlers never touch sockets: they get a ``Request`` (whose body is read only on demand,
so authentication can reject a request before its body is read) and return a ``Response``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import VaultError, bad_parameter


@dataclass
class Request:
    """One HTTP request. ``segments`` is the path split on ``/`` without the leading empty
    part (``/keys/k//sign`` -> ``["keys", "k", "", "sign"]``); ``query`` keeps the first
    value of each parameter; ``host`` is the Host header (``127.0.0.1:8443``)."""

    method: str
    path: str
    segments: list[str]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    host: str
    read_body: Callable[[], bytes]

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer ...`` header, or None."""
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; raises 400 BadParameter when it is anything else."""
        raw = self.read_body()
        try:
            value = json.loads(raw or b"null")
        except ValueError:
            raise bad_parameter("The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise bad_parameter("The request body must be a JSON object.")
        return value

    @property
    def base_url(self) -> str:
        """``https://{Host}``: ids and links name the host the client used (the SDK sends
        follow-up calls to the host inside a key id)."""
        return f"https://{self.host}"


@dataclass
class Response:
    """A reply: status, body bytes, content type and any extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Work to do once the reply is on the wire (e.g. precompute the next nonce), so it
    # overlaps with the client's own processing instead of adding to its latency.
    after: Callable[[], None] | None = None


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON reply (compact separators: smaller bodies, one fewer copy on the wire)."""
    body = json.dumps(value, separators=(",", ":")).encode()
    return Response(status, body, headers=dict(headers or {}))


def error_response(error: VaultError) -> Response:
    """The service-shaped error reply for ``error``, with its extra headers."""
    return json_response(error.status, error.body(), error.headers)

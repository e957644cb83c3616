"""Request context that follows a transaction through the API and the workers.

The API binds the request id and the API key's name for each request; a worker binds the
transaction id (and the request id and key name stored on its record) while it works on
it. Logs (``worker.logs``) and the audit log read these values, so every log line and audit
entry can be traced back to the request that caused it. Context variables are per thread
and per task, so concurrent requests and tasks never see each other's values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("kvsigner_request_id", default=None)
api_key: ContextVar[str | None] = ContextVar("kvsigner_api_key", default=None)
tx_id: ContextVar[str | None] = ContextVar("kvsigner_tx_id", default=None)
purpose: ContextVar[str | None] = ContextVar("kvsigner_purpose", default=None)

_VARS: dict[str, ContextVar[str | None]] = {
    "request_id": request_id, "api_key": api_key, "tx_id": tx_id, "purpose": purpose,
}


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    """Set some of ``request_id``, ``api_key``, ``tx_id``, ``purpose`` for the block."""
    tokens = [(_VARS[name], _VARS[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def snapshot() -> dict[str, str]:
    """The values that are set, by name."""
    return {name: value for name, var in _VARS.items() if (value := var.get()) is not None}

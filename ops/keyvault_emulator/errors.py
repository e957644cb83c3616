"""Errors in the exact shape Key Vault returns them.

The service answers every failure with ``{"error": {"code", "message", "innererror"?}}``;
the Azure SDK maps the status to an exception type (404 -> ResourceNotFoundError, 401 ->
ClientAuthenticationError, anything else -> HttpResponseError) and shows code and message.
"""

from __future__ import annotations

from typing import Any

# Reason phrases for the 5xx statuses that can be injected; the code mirrors Azure's.
SERVER_ERROR_CODES: dict[int, str] = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class VaultError(Exception):
    """A request that ends in an error reply: HTTP ``status`` plus the service's error body.

    ``headers`` are added to the reply (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(self, status: int, code: str, message: str, inner: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Key Vault sends for this error."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner}
        return {"error": error}


def bad_parameter(message: str) -> VaultError:
    """400 BadParameter: malformed JSON, wrong digest length, algorithm/curve mismatch."""
    return VaultError(400, "BadParameter", message)


def key_not_found(name: str, version: str = "") -> VaultError:
    """404 KeyNotFound, worded like the service."""
    what = f"{name}/{version}" if version else name
    return VaultError(404, "KeyNotFound",
                      f"A key with (name/id) {what} was not found in this key vault.")


def key_disabled(operation: str) -> VaultError:
    """403 Forbidden / KeyDisabled: the key version exists but is disabled."""
    return VaultError(403, "Forbidden",
                      f'Operation "{operation}" is not allowed on a disabled key.',
                      inner="KeyDisabled")


def throttled(retry_after: int | None) -> VaultError:
    """429 Throttled, with ``Retry-After`` (whole seconds) only when ``retry_after`` is set."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return VaultError(429, "Throttled",
                      "Operations per second is over the limit. Please try again later.",
                      headers=headers)


def server_error(status: int) -> VaultError:
    """An injected 5xx with the code Azure uses for that status."""
    code = SERVER_ERROR_CODES.get(status, "InternalServerError")
    return VaultError(status, code, "The service encountered an internal error (injected).")

"""The one place where Azure SDK exceptions become kvsigner error codes.

``classify(exc, what)`` says whether a failed vault call may be retried, which
``VaultError`` to raise (now, or once retries are spent) and how long the vault asked us to
wait. Permanent codes: ``vault_auth_failed`` (401, credential errors), ``vault_forbidden``,
``vault_key_disabled`` (403 with inner code KeyDisabled), ``vault_key_not_found`` (404),
``vault_bad_request`` (other 4xx). Transient: ``vault_throttled`` (429) and
``vault_unavailable`` (5xx, timeouts, connection errors). Messages quote the service's error
code and message, never request headers, tokens or secrets.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from worker.domain.errors import VaultError

#: Longest piece of a service message quoted in our errors.
_MAX_QUOTE = 300


@dataclass(frozen=True)
class Failure:
    """A classified vault failure: ``error`` is raised at once unless ``transient``."""

    error: VaultError
    transient: bool
    retry_after: float | None = None


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``/``x-ms-retry-after-ms``/``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date. Unparseable or absent: ``None``.
    Negative values become 0.
    """
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if name in lowered:
            try:
                return max(float(lowered[name]) / 1000.0, 0.0)
            except ValueError:
                pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _service_error(exc: HttpResponseError) -> tuple[str, str, str]:
    """(code, inner code, message) of the service's JSON error body, '' where absent."""
    err = exc.error
    if err is None:
        return "", "", ""
    inner: Any = err.innererror or {}
    inner_code = str(inner.get("code") or "") if isinstance(inner, Mapping) else ""
    return str(err.code or ""), inner_code, str(err.message or "")


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    if len(text) > _MAX_QUOTE:
        text = text[:_MAX_QUOTE] + "..."
    return text


def _headers(exc: HttpResponseError) -> Mapping[str, str] | None:
    headers: Mapping[str, str] | None = getattr(exc.response, "headers", None)
    return headers


def classify(exc: BaseException, what: str, redact: Iterable[str] = ()) -> Failure | None:
    """Classify ``exc`` raised by an SDK call described by ``what`` (e.g. "sign with key k1").

    Returns ``None`` for exceptions that are not vault failures (programming errors), which
    the caller should let propagate unchanged. Strings in ``redact`` are masked in messages.
    """
    secrets = tuple(redact)
    if isinstance(exc, ClientAuthenticationError) and exc.status_code in (None, 401):
        detail = _redact(str(exc.message or exc), secrets)
        # azure-identity's own text often starts with the same words; don't say them twice.
        detail = detail.removeprefix("Authentication failed: ")
        return Failure(VaultError("vault_auth_failed", f"{what}: authentication failed: {detail}"),
                       transient=False)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None \
            and exc.status_code >= 400:
        return _classify_status(exc, exc.status_code, what, secrets)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        detail = _redact(type(exc).__name__ + ": " + str(exc.message or exc), secrets)
        return Failure(VaultError("vault_unavailable", f"{what}: vault not reachable ({detail})"),
                       transient=True)
    if isinstance(exc, AzureError):
        detail = _redact(type(exc).__name__ + ": " + str(exc.message or exc), secrets)
        return Failure(VaultError("vault_unavailable", f"{what}: unexpected vault response "
                                  f"({detail})"), transient=True)
    if isinstance(exc, ValueError) and "challenge" in str(exc).lower():
        # The SDK refuses a WWW-Authenticate challenge whose resource does not match the
        # vault host (see KVSIGNER_VAULT_VERIFY_CHALLENGE_RESOURCE).
        detail = _redact(str(exc), secrets)
        return Failure(VaultError("vault_auth_failed", f"{what}: {detail} (kvsigner setting: "
                                  "KVSIGNER_VAULT_VERIFY_CHALLENGE_RESOURCE)"), transient=False)
    return None


def _classify_status(exc: HttpResponseError, status: int, what: str,
                     secrets: tuple[str, ...]) -> Failure:
    code, inner_code, message = _service_error(exc)
    quoted = _redact(f"{code or 'HTTP ' + str(status)}: {message}".rstrip(": "), secrets)
    detail = f"{what}: vault answered {status} ({quoted})"
    if status == 429:
        return Failure(VaultError("vault_throttled", detail), transient=True,
                       retry_after=parse_retry_after(_headers(exc)))
    if status >= 500 or status == 408:
        return Failure(VaultError("vault_unavailable", detail), transient=True,
                       retry_after=parse_retry_after(_headers(exc)))
    if status == 401:
        return Failure(VaultError("vault_auth_failed", detail), transient=False)
    if status == 403:
        disabled = "KeyDisabled" in (code, inner_code)
        return Failure(VaultError("vault_key_disabled" if disabled else "vault_forbidden",
                                  detail), transient=False)
    if status == 404:
        return Failure(VaultError("vault_key_not_found", detail), transient=False)
    return Failure(VaultError("vault_bad_request", detail), transient=False)

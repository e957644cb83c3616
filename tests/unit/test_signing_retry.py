"""Sign retry policy and Azure error classification, driven by real azure-core exceptions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseTimeoutError,
)

from worker.domain.errors import VaultError
from worker.signing.retry import RetryPolicy
from worker.signing.vault_errors import classify, parse_retry_after


class FakeResponse:
    """Just enough of an azure-core HTTP response for HttpResponseError to parse."""

    def __init__(self, status: int, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers = headers or {}
        self._body = json.dumps(body) if body is not None else ""

    def text(self, encoding: str | None = None) -> str:
        return self._body


def http_error(status: int, code: str = "", inner: str | None = None,
               headers: dict[str, str] | None = None,
               cls: type[HttpResponseError] = HttpResponseError) -> HttpResponseError:
    error: dict[str, Any] = {"code": code or f"Status{status}", "message": f"msg {status}"}
    if inner:
        error["innererror"] = {"code": inner}
    return cls(response=FakeResponse(status, {"error": error}, headers))  # type: ignore[arg-type]


class Script:
    """A fake sign call: raises the scripted exceptions in order, then returns 'ok'."""

    def __init__(self, failures: Iterable[BaseException]) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def policy(sleeps: list[float], retries: int = 5, cap: float = 16.0,
           rand: Callable[[], float] = lambda: 1.0) -> RetryPolicy:
    return RetryPolicy(retries=retries, cap=cap, sleep=sleeps.append, random=rand)


def test_429_without_retry_after_backs_off_exponentially() -> None:
    sleeps: list[float] = []
    call = Script([http_error(429, "Throttled")] * 3)
    assert policy(sleeps).run(call, "sign") == "ok"
    assert sleeps == [1, 2, 4]
    assert call.calls == 4


def test_backoff_is_capped_and_exhaustion_is_vault_throttled() -> None:
    sleeps: list[float] = []
    call = Script([http_error(429, "Throttled")] * 10)
    with pytest.raises(VaultError) as info:
        policy(sleeps, retries=5, cap=3).run(call, "sign with key 'k1'")
    assert sleeps == [1, 2, 3, 3, 3]
    assert call.calls == 6
    assert info.value.code == "vault_throttled"
    assert info.value.retryable
    assert info.value.details["attempts"] == 6
    assert "k1" in info.value.message and "6 attempts" in info.value.message


def test_full_jitter_scales_the_backoff() -> None:
    sleeps: list[float] = []
    policy(sleeps, rand=lambda: 0.25).run(Script([http_error(429)] * 3), "sign")
    assert sleeps == [0.25, 0.5, 1.0]


def test_default_schedule_is_1_2_4_8_16() -> None:
    p = RetryPolicy(random=lambda: 1.0)
    assert [p.backoff(i) for i in range(7)] == [1, 2, 4, 8, 16, 16, 16]


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "0"}, 0.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"x-ms-retry-after-ms": "250", "Retry-After": "9"}, 0.25),
])
def test_429_with_retry_after_waits_exactly_that(headers: dict[str, str],
                                                 expected: float) -> None:
    sleeps: list[float] = []
    call = Script([http_error(429, "Throttled", headers=headers)])
    assert policy(sleeps, rand=lambda: 0.0).run(call, "sign") == "ok"
    assert sleeps == [expected]


def test_retry_after_longer_than_cap_gives_up_at_once() -> None:
    sleeps: list[float] = []
    call = Script([http_error(429, "Throttled", headers={"Retry-After": "60"})])
    with pytest.raises(VaultError) as info:
        policy(sleeps, cap=16).run(call, "sign")
    assert sleeps == []
    assert call.calls == 1
    assert info.value.code == "vault_throttled"
    assert info.value.retryable
    assert info.value.details["retryAfter"] == 60.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    sleeps: list[float] = []
    call = Script([http_error(status), http_error(status)])
    assert policy(sleeps).run(call, "sign") == "ok"
    assert sleeps == [1, 2]


@pytest.mark.parametrize("exc", [
    ServiceRequestError("connection refused"),
    ServiceResponseTimeoutError("read timed out"),
])
def test_connection_errors_and_timeouts_are_retried(exc: BaseException) -> None:
    sleeps: list[float] = []
    call = Script([exc] * 4)
    with pytest.raises(VaultError) as info:
        policy(sleeps, retries=3).run(call, "sign")
    assert info.value.code == "vault_unavailable"
    assert info.value.retryable
    assert sleeps == [1, 2, 4]


@pytest.mark.parametrize(("exc", "code"), [
    (http_error(404, "KeyNotFound", cls=ResourceNotFoundError), "vault_key_not_found"),
    (http_error(403, "Forbidden", inner="KeyDisabled"), "vault_key_disabled"),
    (http_error(403, "Forbidden", inner="ForbiddenByRbac"), "vault_forbidden"),
    (http_error(403, "Forbidden", inner="ForbiddenByPolicy"), "vault_forbidden"),
    (http_error(400, "BadParameter"), "vault_bad_request"),
    (http_error(409, "Conflict"), "vault_bad_request"),
    (http_error(401, "Unauthorized", cls=ClientAuthenticationError), "vault_auth_failed"),
    (ClientAuthenticationError("ClientSecretCredential.get_token failed"), "vault_auth_failed"),
])
def test_permanent_errors_are_raised_at_once(exc: BaseException, code: str) -> None:
    sleeps: list[float] = []
    call = Script([exc])
    with pytest.raises(VaultError) as info:
        policy(sleeps).run(call, "sign with key 'k1'")
    assert info.value.code == code
    assert not info.value.retryable
    assert call.calls == 1
    assert sleeps == []
    assert info.value.__cause__ is exc


def test_403_with_retry_after_is_still_permanent() -> None:
    call = Script([http_error(403, "Forbidden", inner="KeyDisabled",
                              headers={"Retry-After": "1"})])
    with pytest.raises(VaultError) as info:
        policy([]).run(call, "sign")
    assert info.value.code == "vault_key_disabled"


def test_unknown_exceptions_propagate_unchanged() -> None:
    boom = RuntimeError("bug")
    with pytest.raises(RuntimeError) as info:
        policy([]).run(Script([boom]), "sign")
    assert info.value is boom


def test_zero_retries_means_one_attempt() -> None:
    sleeps: list[float] = []
    call = Script([http_error(503)])
    with pytest.raises(VaultError) as info:
        policy(sleeps, retries=0).run(call, "sign")
    assert (call.calls, sleeps, info.value.code) == (1, [], "vault_unavailable")


def test_secrets_are_redacted_from_messages() -> None:
    exc = ClientAuthenticationError("AADSTS7000215: Invalid client secret 's3cr3t-value'")
    failure = classify(exc, "list vault keys", redact=("s3cr3t-value",))
    assert failure is not None
    assert failure.error.code == "vault_auth_failed"
    assert "s3cr3t-value" not in failure.error.message
    assert "AADSTS7000215" in failure.error.message


def test_message_quotes_service_code_and_status() -> None:
    failure = classify(http_error(404, "KeyNotFound", cls=ResourceNotFoundError), "sign k1")
    assert failure is not None
    assert failure.error.message == "sign k1: vault answered 404 (KeyNotFound: msg 404)"


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == 30
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "-3"}) == 0.0

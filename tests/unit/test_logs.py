"""Structured logs: the JSON and text formats, the request context fields, and redaction."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from worker import context
from worker.logs import (
    _PATTERNS,
    AZURE_HTTP_LOGGER,
    PER_CALL_LOGGERS,
    REDACTED,
    Redactor,
    configure,
)
from worker.setting_values import Secret
from worker.settings import Settings

CLIENT_SECRET = "Zx9~client.secret-value_42"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_WEBHOOK_SECRET = "whsec_b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZA=="
API_KEY = "kvs_0123456789ab_" + "S" * 43


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    """The root logger configured as a process would be, writing into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    settings = Settings(azure_client_secret=Secret(CLIENT_SECRET),
                        webhook_secret=Secret(f"{WEBHOOK_SECRET} {OLD_WEBHOOK_SECRET}"),
                        log_level="DEBUG")
    handler = configure(settings, stream)
    yield stream
    root.removeHandler(handler)
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_basics(capture: io.StringIO) -> None:
    logging.getLogger("kvsigner.test").info("hello %s", "world")
    logging.getLogger("other.lib").debug("multi\nline")
    first, second = lines(capture)
    assert first["message"] == "hello world"
    assert (first["level"], first["logger"]) == ("INFO", "kvsigner.test")
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert second["message"] == "multi\nline" and second["level"] == "DEBUG"
    assert "request_id" not in first and "exception" not in first


def test_context_and_extra_fields_are_carried(capture: io.StringIO) -> None:
    log = logging.getLogger("kvsigner.test")
    with context.bound(request_id="req-1", api_key="ci", tx_id="ab" * 16):
        log.warning("working", extra={"status": 202, "path": "/transactions",
                                      "blob": {"not": "scalar"}})
    log.info("after")
    inside, after = lines(capture)
    assert inside["request_id"] == "req-1" and inside["api_key"] == "ci"
    assert inside["tx_id"] == "ab" * 16
    assert inside["status"] == 202 and inside["path"] == "/transactions"
    assert "blob" not in inside
    assert not {"request_id", "api_key", "tx_id"} & set(after)


def test_exception_text_is_included(capture: io.StringIO) -> None:
    try:
        raise ValueError("broken thing")
    except ValueError:
        logging.getLogger("kvsigner.test").exception("it failed")
    (entry,) = lines(capture)
    assert entry["message"] == "it failed" and entry["level"] == "ERROR"
    assert "Traceback" in entry["exception"] and "ValueError: broken thing" in entry["exception"]


def test_secrets_are_scrubbed_from_messages_args_extras_and_tracebacks(
        capture: io.StringIO) -> None:
    log = logging.getLogger("kvsigner.test")
    log.info("header Authorization: Bearer %s", API_KEY)
    log.info("key %s and webhook %s / %s", API_KEY, WEBHOOK_SECRET, OLD_WEBHOOK_SECRET)
    log.info("token request body client_id=x&client_secret=%s&scope=y", CLIENT_SECRET)
    log.info("the secret itself: %r", CLIENT_SECRET, extra={"detail": f"s={CLIENT_SECRET}"})
    log.info("subscription secret whsec_%s", "QUJDREVGR0hJSktMTU5PUFFSU1RVVg==")
    try:
        raise RuntimeError(f"upstream said {API_KEY} {CLIENT_SECRET}")
    except RuntimeError:
        log.exception("failed with %s", WEBHOOK_SECRET)
    text = capture.getvalue()
    for secret in (API_KEY, API_KEY.split("_", 2)[2], WEBHOOK_SECRET, OLD_WEBHOOK_SECRET,
                   CLIENT_SECRET, "QUJDREVGR0hJSktMTU5PUFFSU1RVVg=="):
        assert secret not in text
    entries = lines(capture)
    assert entries[0]["message"] == f"header Authorization: Bearer {REDACTED}"
    assert "kvs_0123456789ab_" + REDACTED in entries[1]["message"]
    assert entries[2]["message"].endswith(f"client_secret={REDACTED}&scope=y")
    assert entries[3]["detail"] == f"s={REDACTED}"
    assert REDACTED in entries[5]["exception"]


def test_text_format_is_one_readable_line_with_context() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    handler = configure(Settings(log_format="text", log_level="INFO"), stream)
    try:
        with context.bound(request_id="req-9"):
            logging.getLogger("kvsigner.test").info("sent %s", API_KEY)
        logging.getLogger("kvsigner.test").debug("below the level")
    finally:
        root.removeHandler(handler)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    (line,) = stream.getvalue().splitlines()
    assert " INFO kvsigner.test [request_id=req-9]: sent kvs_0123456789ab_" in line
    assert API_KEY not in line


def test_configure_replaces_its_own_handler_only(capture: io.StringIO) -> None:
    root = logging.getLogger()
    mine = [h for h in root.handlers if getattr(h, "_kvsigner_handler", False)]
    assert len(mine) == 1
    again = configure(Settings(), io.StringIO())
    try:
        assert [h for h in root.handlers if getattr(h, "_kvsigner_handler", False)] == [again]
    finally:
        root.removeHandler(again)


def test_short_literals_are_not_scrubbed_by_value() -> None:
    redact = Redactor(["abc", "", "long-enough-secret"])
    assert redact("abc long-enough-secret") == f"abc {REDACTED}"


_CREDENTIAL_PARTS = st.sampled_from([
    "Bearer ", "bEaReR\t", "kvs_", "kvs_0123456789ab_", "kvs_fedcba987654_", "whsec_",
    "client_secret=", "CLIENT_ASSERTION=", "Password=", "authorization=\"", "=", "&", " ",
    '"', "'", "x", "S3cr3t", "redis://", "https://u", ":", "@", "user@", "0123456789ab", "_",
    "-", ".", "/", "\n", "é", "\\b",
])


@given(st.lists(st.one_of(_CREDENTIAL_PARTS, st.text(max_size=8)), max_size=12).map("".join))
@example("x bearer t")
@example("kvs_fedcba987654_k")
@example("whsec_w")
@example("client_secret=c")
@example("Client_Assertion=a")
@example("PASSWORD=p")
@example("redis://:p@h")
def test_the_quick_check_never_changes_what_is_redacted(text: str) -> None:
    # Redactor skips its patterns when the text holds none of their cue words; every
    # pattern applied regardless must give the same result.
    expected = text
    for pattern, replacement in _PATTERNS:
        expected = pattern.sub(replacement, expected)
    assert Redactor()(text) == expected


def test_passwords_in_urls_go() -> None:
    redact = Redactor()
    assert redact("broker redis://:s3cr3t-pw@10.0.0.5:6379/0 down") == \
        f"broker redis://:{REDACTED}@10.0.0.5:6379/0 down"
    assert redact("via https://proxy-user:pw%40x@proxy.example:8080") == \
        f"via https://proxy-user:{REDACTED}@proxy.example:8080"
    for kept in ("https://vault.example/keys/a?api-version=7.5", "mail ops@example.com",
                 "redis://127.0.0.1:6379/0", "git@github.com:org/repo"):
        assert redact(kept) == kept


def test_bearer_tokens_go_but_auth_challenges_stay() -> None:
    redact = Redactor()
    challenge = 'WWW-Authenticate: Bearer authorization="https://login.example/t", resource="x"'
    assert redact(challenge) == challenge
    jwt = "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"
    assert redact(f"'Authorization': 'bearer {jwt}'") == f"'Authorization': 'bearer {REDACTED}'"
    assert redact(f'{{"h": "Bearer {jwt}"}}') == f'{{"h": "Bearer {REDACTED}"}}'


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_per_call_library_lines_only_at_debug(level: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    handler = configure(Settings(log_level=level), stream)
    try:
        for name in ("celery.app.trace", "celery.worker.strategy", AZURE_HTTP_LOGGER):
            logging.getLogger(name).info("per-call line")
        logging.getLogger("celery.app.trace").error("task raised")
        messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in PER_CALL_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    assert messages.count("per-call line") == (3 if level == "DEBUG" else 0)
    assert "task raised" in messages

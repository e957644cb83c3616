"""Process-wide logging: JSON lines (or readable text) with the request context, and
redaction of anything that looks like a credential.

``configure(settings)`` gives the root logger one handler on stderr, so every library's
records (Flask, werkzeug, Celery, azure) come out in one format. Each JSON line holds
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the context fields that are set
(``request_id``, ``tx_id``, ``api_key``, ``purpose`` from ``worker.context``), scalar
``extra=`` fields, and ``exception`` (the formatted traceback) when there is one.

Redaction is defence in depth: code should never log secrets in the first place. The
handler's ``RedactingFilter`` rewrites each record before any formatter sees it: bearer
tokens, ``kvs_`` API keys, ``whsec_`` webhook secrets, ``client_secret=``/``password=`` form
fields, the password of a URL (``redis://:PASSWORD@host``), and the literal values of the
configured client and webhook secrets are replaced by ``[redacted]`` in the message, its
arguments, extra fields and the traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from worker import context
from worker.settings import Settings

REDACTED = "[redacted]"
#: Secrets shorter than this are not scrubbed by value (they would match ordinary words).
MIN_LITERAL = 8
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A bearer token, but not an auth-param (`Bearer authorization="..."` in a challenge).
    (re.compile(r"(?i)\b(bearer)\s+(?![A-Za-z0-9_-]+=\")[A-Za-z0-9._~+/-]+=*"),
     r"\1 " + REDACTED),
    (re.compile(r"\bkvs_([0-9a-f]{12})_[A-Za-z0-9_-]+"), r"kvs_\1_" + REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), "whsec_" + REDACTED),
    (re.compile(r"(?i)\b(client_secret|client_assertion|password)=[^&\s\"']+"),
     r"\1=" + REDACTED),
    # A URL's password (redis://:PASSWORD@host, https://user:PASSWORD@proxy).
    (re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/@]+@"), r"\1" + REDACTED + "@"),
)
#: Text each of ``_PATTERNS`` needs in order to match: most log text holds none of it, and
#: one search for these is a fraction of the cost of four substitutions.
_CUES = re.compile(r"(?i)bearer|kvs_|whsec_|client_secret|client_assertion|password|@")
#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}
_HANDLER_MARK = "_kvsigner_handler"
AZURE_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"
PER_CALL_LOGGERS = (AZURE_HTTP_LOGGER, "celery.worker.strategy", "celery.app.trace")


class Redactor:
    """Scrubs credential-shaped text and the given literal secrets from strings."""

    def __init__(self, literals: Iterable[str] = ()) -> None:
        self.literals = sorted({s for s in literals if len(s) >= MIN_LITERAL}, key=len,
                               reverse=True)

    def __call__(self, text: str) -> str:
        for literal in self.literals:
            text = text.replace(literal, REDACTED)
        if not _CUES.search(text):
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def secret_values(settings: Settings) -> list[str]:
    """The configured secrets' values: the Azure client secret and every webhook secret."""
    values = [settings.azure_client_secret.reveal()]
    values += settings.webhook_secret.reveal().split()
    return [v for v in values if v]


class RedactingFilter(logging.Filter):
    """Rewrites records in place, so every later handler and formatter sees clean text."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad format arguments: keep what can be shown
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields, then the record's scalar ``extra=`` fields (which win)."""
    out: dict[str, Any] = dict(context.snapshot())
    for name, value in vars(record).items():
        if name not in _STANDARD and not name.startswith("_") and (
                value is None or isinstance(value, str | int | float | bool)):
            out[name] = value
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [key=value ...]: message`` plus the traceback, for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(kvs_fields)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        shown = " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]" if fields else ""
        setattr(record, "kvs_fields", shown)  # noqa: B010  (read by the format string)
        try:
            return super().format(record)
        finally:
            delattr(record, "kvs_fields")


def configure(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (default stderr) in ``settings.log_format`` at
    ``settings.log_level`` and above. Idempotent: a second call replaces the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter(Redactor(secret_values(settings))))
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # The API writes its own access line (api.request_log); werkzeug's would duplicate it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The Azure SDK logs every HTTP request and response at INFO, and Celery every task
    # received and finished: several lines per transaction that say nothing the pipeline's
    # own lines do not. Keep them for DEBUG.
    for name in PER_CALL_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if settings.log_level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)
    return handler


def leave_celery_logging_alone() -> None:
    """Stop Celery from installing its own handlers and formats (a ``setup_logging``
    receiver tells it logging is configured): its worker, beat and task records then reach
    the root handler as JSON like everything else. Call before starting a worker or beat."""
    from celery import signals

    signals.setup_logging.connect(_celery_setup_logging, weak=False)


def _celery_setup_logging(**_kwargs: Any) -> None:
    """Logging is already configured by ``configure``."""

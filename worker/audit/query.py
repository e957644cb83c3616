"""Reading the audit log: filters, time bounds, pages (newest first) and the export scan.

``GET /audit`` pages newest first; ``kvsigner audit export`` streams oldest first. Filters
other than time are applied while scanning, and one page scans at most ``SCAN_BUDGET``
entries: a page may therefore hold fewer than ``limit`` entries (even none) while
``nextCursor`` is set. Follow ``nextCursor`` until it is null to see every match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from worker.audit.log import AuditLog, Entry
from worker.domain.errors import ValidationError
from worker.webhooks.timefmt import iso

SCAN_BUDGET = 5000
BATCH = 500
STATUSES = ("requested", "signed", "failed", "result")
_CURSOR = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_MS = re.compile(r"^[0-9]{1,15}$")


def parse_time(raw: str, name: str) -> int:
    """Milliseconds since the epoch from RFC 3339 text (with a UTC offset or ``Z``) or a
    plain integer of milliseconds. Raises ``ValidationError('invalid_field')``."""
    if _MS.match(raw):
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in raw.upper():
        raise ValidationError("invalid_field", f"`{name}` must be RFC 3339 with a time "
                              "zone (2024-05-01T12:00:00Z) or milliseconds since the epoch")
    return max(0, int(moment.timestamp() * 1000))


def check_cursor(cursor: str) -> str:
    """Raises ``ValidationError('invalid_cursor')`` for anything but an entry id."""
    if not _CURSOR.match(cursor):
        raise ValidationError("invalid_cursor", "the cursor is not one this API returned")
    return cursor


@dataclass(frozen=True)
class AuditFilter:
    """Entries to keep; ``None`` matches anything. ``since``/``until`` are inclusive ms."""

    address: str | None = None
    key: str | None = None
    tx_id: str | None = None
    status: str | None = None
    purpose: str | None = None
    since: int | None = None
    until: int | None = None

    def matches(self, fields: Mapping[str, str]) -> bool:
        if self.address is not None and fields.get("address", "").lower() != \
                self.address.lower():
            return False
        wanted = (("keyName", self.key), ("txId", self.tx_id), ("status", self.status),
                  ("purpose", self.purpose))
        return all(value is None or fields.get(name) == value for name, value in wanted)

    @property
    def lower(self) -> str:
        return "-" if self.since is None else str(self.since)

    @property
    def upper(self) -> str:
        # An id without its sequence part is read by Redis as the last entry of that ms.
        return "+" if self.until is None else str(self.until)


@dataclass(frozen=True)
class AuditPage:
    entries: list[dict[str, Any]]
    next_cursor: str | None


def entry_view(entry_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """The API and export form of one entry: every field present, ``None`` when unset.

    ``signature`` is the 65-byte ``r || s || v`` (v = 27 + recovery id) of ``signed``
    entries: for ``personal_sign``/typed data exactly what the caller received.
    """
    r, s, v = fields.get("r"), fields.get("s"), fields.get("v")
    signature = (f"0x{r[2:]}{s[2:]}{int(v):02x}" if r and s and v else None)
    duration = fields.get("durationMs")
    return {
        "id": entry_id,
        "time": iso(int(entry_id.split("-", 1)[0])),
        "status": fields.get("status"),
        "signingId": fields.get("signingId"),
        "purpose": fields.get("purpose"),
        "txId": fields.get("txId"),
        "requestId": fields.get("requestId"),
        "apiKey": fields.get("apiKey"),
        "address": fields.get("address"),
        "keyName": fields.get("keyName"),
        "keyVersion": fields.get("keyVersion"),
        "keyId": fields.get("keyId"),
        "digest": fields.get("digest"),
        "r": r, "s": s, "v": None if v is None else int(v),
        "signature": signature,
        "txHash": fields.get("txHash"),
        "error": fields.get("error"),
        "durationMs": None if duration is None else int(duration),
        "process": fields.get("process"),
    }


def newest_first(log: AuditLog, flt: AuditFilter, limit: int,
                 cursor: str | None = None, budget: int = SCAN_BUDGET) -> AuditPage:
    """One page of matching entries, newest first, continuing below ``cursor`` (the
    ``nextCursor`` of the previous page, made with the same filter). Raises
    ``audit_unavailable`` when Redis fails."""
    upper = "(" + check_cursor(cursor) if cursor else flt.upper
    out: list[dict[str, Any]] = []
    scanned, last = 0, ""
    while len(out) < limit and scanned < budget:
        want = min(BATCH, budget - scanned)
        batch = log.newest(upper, flt.lower, want)
        for entry_id, fields in batch:
            scanned, last = scanned + 1, entry_id
            if flt.matches(fields):
                out.append(entry_view(entry_id, fields))
                if len(out) == limit:
                    break
        if not batch or (len(batch) < want and last == batch[-1][0]):
            return AuditPage(out, None)  # the range is exhausted
        upper = "(" + batch[-1][0]
    more = bool(last) and bool(log.newest("(" + last, flt.lower, 1))
    return AuditPage(out, last if more else None)


def oldest_first(log: AuditLog, flt: AuditFilter) -> Iterator[dict[str, Any]]:
    """Every matching entry, oldest first, read in batches (for the export)."""
    lower = flt.lower
    while True:
        batch: list[Entry] = log.oldest(lower, flt.upper, BATCH)
        for entry_id, fields in batch:
            if flt.matches(fields):
                yield entry_view(entry_id, fields)
        if len(batch) < BATCH:
            return
        lower = "(" + batch[-1][0]

"""``GET /audit``: the audit log of vault signatures, newest first.

Filters (all optional, combined): ``address``, ``key`` (vault key name), ``txId``,
``status`` (requested, signed, failed, result), ``purpose``, ``since``/``until`` (inclusive;
RFC 3339 with a time zone, or milliseconds since the epoch); ``limit`` (1-500, default 100)
and ``cursor`` (``nextCursor`` of the previous page). 200 ``{"entries", "nextCursor"}``; a
page may hold fewer than ``limit`` entries while ``nextCursor`` is set (one request scans a
bounded number of entries, see ``worker.audit.query``). Errors: 400 ``invalid_field``,
``invalid_address``, ``invalid_cursor``; 503 ``audit_unavailable`` when Redis fails.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from api.context import services
from api.query import check_params, parse_limit
from worker.audit import AuditLog
from worker.audit.query import STATUSES, AuditFilter, check_cursor, newest_first, parse_time
from worker.domain.errors import ValidationError
from worker.domain.requests import parse_address

bp = Blueprint("audit", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 100, 500
PARAMS = frozenset({"address", "key", "txId", "status", "purpose", "since", "until", "limit",
                    "cursor"})
_TX_RE = re.compile(r"^[0-9a-f]{32}$")
_TEXT_RE = re.compile(r"^[A-Za-z0-9._-]{1,127}$")


def parse_audit_query(args: MultiDict[str, str]) -> tuple[AuditFilter, int, str | None]:
    """The filter, page size and cursor of ``GET /audit``. Raises ``ValidationError`` for
    an unknown or repeated parameter (a misspelt filter must not list everything), a
    malformed value, or ``since`` after ``until``."""
    check_params(args, PARAMS, {
        "txId": (_TX_RE.match, "a transaction id"),
        "key": (_TEXT_RE.match, "a vault key name"),
        "purpose": (_TEXT_RE.match, "a purpose such as transaction"),
        "status": (lambda v: v in STATUSES, "one of " + ", ".join(STATUSES)),
    })
    limit = parse_limit(args, DEFAULT_LIMIT, MAX_LIMIT)
    since, until = (None if args.get(n) is None else parse_time(args[n], n)
                    for n in ("since", "until"))
    if since is not None and until is not None and since > until:
        raise ValidationError("invalid_field", "`since` is after `until`")
    address = args.get("address")
    flt = AuditFilter(address=None if address is None else parse_address(address, "address"),
                      key=args.get("key"), tx_id=args.get("txId"), status=args.get("status"),
                      purpose=args.get("purpose"), since=since, until=until)
    cursor = args.get("cursor") or None
    return flt, limit, None if cursor is None else check_cursor(cursor)


@bp.get("/audit")
def list_audit() -> Response:
    flt, limit, cursor = parse_audit_query(request.args)
    page = newest_first(AuditLog(services().redis), flt, limit, cursor)
    return jsonify({"entries": page.entries, "nextCursor": page.next_cursor})

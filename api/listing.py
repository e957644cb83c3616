"""The query string of ``GET /transactions``, validated before Redis is asked anything."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from worker.domain.errors import ValidationError
from worker.domain.records import Status
from worker.domain.requests import parse_address

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PARAMS = frozenset({"from", "status", "limit", "cursor"})


@dataclass(frozen=True)
class ListQuery:
    sender: str | None
    status: str | None
    limit: int
    cursor: str | None


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    """Raises ``ValidationError``: ``invalid_address`` for a bad ``from``; ``invalid_field``
    for an unknown or repeated parameter, a ``status`` that is not a ``Status`` value, or a
    ``limit`` outside 1..200. Unknown parameters are refused so that a misspelt filter
    (``sender=``) is not silently ignored and all transactions returned instead."""
    unknown = sorted(set(args) - PARAMS)
    if unknown:
        raise ValidationError("invalid_field", f"unknown query parameter(s): "
                              f"{', '.join(unknown)}")
    for name in PARAMS:
        if len(args.getlist(name)) > 1:
            raise ValidationError("invalid_field", f"`{name}` is given more than once")
    sender = args.get("from")
    status = args.get("status")
    if status is not None and status not in {s.value for s in Status}:
        raise ValidationError("invalid_field", "`status` must be one of "
                              f"{', '.join(s.value for s in Status)}")
    raw_limit = args.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        # The length bound comes first: int() of thousands of digits is slow or refused.
        if not (len(raw_limit) <= 3 and raw_limit.isascii() and raw_limit.isdigit()
                and 1 <= int(raw_limit) <= MAX_LIMIT):
            raise ValidationError("invalid_field", f"`limit` must be an integer from 1 to "
                                  f"{MAX_LIMIT}")
        limit = int(raw_limit)
    return ListQuery(
        sender=None if sender is None else parse_address(sender, "from"),
        status=status,
        limit=limit,
        cursor=args.get("cursor") or None,
    )

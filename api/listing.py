"""The query string of ``GET /transactions``, validated before Redis is asked anything."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from api.query import check_params, parse_limit
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
    statuses = [s.value for s in Status]
    check_params(args, PARAMS, {"status": (lambda v: v in statuses,
                                           "one of " + ", ".join(statuses))})
    sender = args.get("from")
    return ListQuery(
        sender=None if sender is None else parse_address(sender, "from"),
        status=args.get("status"),
        limit=parse_limit(args, DEFAULT_LIMIT, MAX_LIMIT),
        cursor=args.get("cursor") or None,
    )

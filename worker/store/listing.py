"""Pages of transaction records, newest first, over the record store's indexes.

Every index (``idx:all``, ``idx:from:{address}``, ``idx:status:{status}``) holds the same
``{created_ms:015d}:{id}`` members, ordered as text, so a cursor (the last member shown)
fits any of them. Index members are read a batch at a time and their records with one MGET;
with both filters the smaller of the two indexes is walked and the other filter applied to
its records. An index entry whose record has expired is dropped when a listing meets it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

from worker.domain.errors import ValidationError
from worker.domain.records import TxRecord
from worker.store.records import PREFIX, RecordStore
from worker.store.text import as_text


@dataclass(frozen=True)
class Page:
    records: list[TxRecord]
    next_cursor: str | None


def list_page(store: RecordStore, sender: str | None = None, status: str | None = None,
              limit: int = 50, cursor: str | None = None) -> Page:
    """Newest first. Filters combine; ``cursor`` comes from a previous page.
    Raises ``ValidationError('invalid_cursor')`` for a cursor this module did not make."""
    r = store.r
    index, keep = _index_for(store, sender, status)
    size = max(limit * 2, 100 if keep is not None else 20)
    upper = "+"
    if cursor:
        upper = "(" + _decode_cursor(cursor)
    out: list[TxRecord] = []
    last_member: str | None = None
    exhausted = False
    while len(out) < limit and not exhausted:
        batch = [as_text(m) for m in r.zrevrangebylex(index, upper, "-", start=0, num=size)]
        if not batch:
            break
        exhausted = len(batch) < size
        records = store.get_many([member.split(":", 1)[1] for member in batch])
        expired = []
        for member, rec in zip(batch, records, strict=True):
            upper = "(" + member
            if rec is None:  # expired: its stale index entry is dropped below
                expired.append(member)
                continue
            if keep is not None and not keep(rec):
                continue
            out.append(rec)
            last_member = member
            if len(out) == limit:
                break
        if expired:
            r.zrem(index, *expired)
    more = len(out) == limit and last_member is not None and bool(
        r.zrevrangebylex(index, "(" + last_member, "-", start=0, num=1))
    return Page(out, _encode_cursor(last_member) if more and last_member else None)


def _index_for(store: RecordStore, sender: str | None, status: str | None
               ) -> tuple[str, Callable[[TxRecord], bool] | None]:
    """The index a listing walks and the filter its records must still pass."""
    by_sender = f"{PREFIX}idx:from:{sender}"
    by_status = f"{PREFIX}idx:status:{status}"
    if sender and status:
        with store.r.pipeline(transaction=False) as pipe:
            pipe.zcard(by_sender)
            pipe.zcard(by_status)
            senders, statuses = pipe.execute()
        if statuses < senders:
            return by_status, lambda rec: rec.sender == sender and rec.status == status
        return by_sender, lambda rec: rec.status == status
    if sender:
        return by_sender, None
    if status:
        # A record's status can move on between the index read and the record read.
        return by_status, lambda rec: rec.status == status
    return f"{PREFIX}idx:all", None


def _encode_cursor(member: str) -> str:
    return base64.urlsafe_b64encode(member.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        member = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("invalid_cursor", "malformed cursor") from None
    prefix, _, tx_id = member.partition(":")
    if not (len(prefix) == 15 and prefix.isdigit() and tx_id):
        raise ValidationError("invalid_cursor", "malformed cursor")
    return member

"""The delivery log: listing deliveries with filters, and redelivering one.

Listing walks a lexicographic index (``{created_ms:015d}:{id}``, newest first) chosen by the
most selective filter given (transaction, else subscription, else all) and applies the rest
while reading, like ``GET /transactions``. Index entries of expired deliveries are dropped
as they are met.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from worker.domain.errors import KvsignerError, ValidationError
from worker.domain.records import now_ms
from worker.store.text import as_text
from worker.webhooks import keys
from worker.webhooks.deliveries import PENDING, Delivery, DeliveryStore

_MEMBER_RE = re.compile(r"^[0-9]{15}:dlv_[0-9a-f]{24}$")
BATCH = 100
MAX_BATCHES = 20  # one request reads at most this many batches; the cursor continues


@dataclass(frozen=True)
class DeliveryFilter:
    tx_id: str | None = None
    event_type: str | None = None
    status: str | None = None
    subscription_id: str | None = None

    def accepts(self, d: Delivery) -> bool:
        return ((self.tx_id is None or d.tx_id == self.tx_id)
                and (self.event_type is None or d.event_type == self.event_type)
                and (self.status is None or d.status == self.status)
                and (self.subscription_id is None or d.target == self.subscription_id))


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_cursor: str | None


def list_deliveries(store: DeliveryStore, flt: DeliveryFilter, limit: int,
                    cursor: str | None = None) -> DeliveryPage:
    """Newest first. A page holds at most ``limit`` deliveries, and fewer when a rare
    filter made the scan stop early; ``next_cursor`` is set while more entries remain.
    Raises ``ValidationError('invalid_cursor')`` for a cursor this module did not make."""
    r = store.r
    if flt.tx_id:
        index = keys.idx_tx(flt.tx_id)
    elif flt.subscription_id:
        index = keys.idx_sub(flt.subscription_id)
    else:
        index = keys.IDX_ALL
    upper = "(" + _decode(cursor) if cursor else "+"
    out: list[Delivery] = []
    last: str | None = None  # the last index entry looked at: where the next page starts
    for _ in range(MAX_BATCHES):
        batch = [as_text(m) for m in r.zrevrangebylex(index, upper, "-", start=0, num=BATCH)]
        if not batch:
            break
        found = store.get_many([m.split(":", 1)[1] for m in batch])
        for m, d in zip(batch, found, strict=True):
            upper, last = "(" + m, m
            if d is None:
                r.zrem(index, m)
            elif flt.accepts(d):
                out.append(d)
                if len(out) == limit:
                    break
        if len(out) == limit or len(batch) < BATCH:
            break
    more = last is not None and bool(r.zrevrangebylex(index, "(" + last, "-", start=0, num=1))
    return DeliveryPage(out, _encode(last) if more and last else None)


def redeliver(store: DeliveryStore, delivery_id: str) -> Delivery:
    """Start a new attempt sequence for a finished delivery (same event id, so receivers can
    drop a copy they already have). It goes back into its chain, so it is sent before later
    events of the same record to the same target that are still pending. The caller queues
    the chain's first delivery. Raises ``KvsignerError``: ``not_found``, or
    ``delivery_in_progress`` (409) while it is still pending."""
    state: dict[str, Any] = {}

    def change(d: Delivery) -> bool:
        state["pending"] = d.status == PENDING
        if d.status == PENDING:
            return False
        d.status, d.reason = PENDING, None
        d.round += 1
        d.started_at = d.next_at = now_ms()
        return True

    def also(pipe: Any, d: Delivery) -> None:
        pipe.expire(keys.event(d.event_id), store.retention)
        pipe.zadd(keys.chain(d.tx_id, d.target), {d.id: d.seq})
        pipe.zadd(keys.DUE, {d.id: d.next_at / 1000})

    updated = store.update(delivery_id, change, also)
    if updated is None:
        raise KvsignerError("not_found", "no such delivery")
    if state.get("pending"):
        raise KvsignerError("delivery_in_progress",
                            "the delivery is still pending; redeliver it once it is "
                            "delivered or failed")
    return updated


def _encode(member: str) -> str:
    return base64.urlsafe_b64encode(member.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        member = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, UnicodeDecodeError):
        member = ""
    if not _MEMBER_RE.match(member):
        raise ValidationError("invalid_cursor", "malformed cursor")
    return member

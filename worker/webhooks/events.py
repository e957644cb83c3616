"""Webhook events, derived from a record's status history.

History entry ``i`` of a record is an event when its status differs from entry ``i - 1``'s
and maps to an event type; notes that repeat the current status are not events. The event
id ``evt_{tx id}_{i}`` is a pure function of the record, so however many workers see the same
change, and however often, they name the same event (and the outbox records it once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from worker.domain.records import HistoryEntry, TxRecord

SUBMITTED = "transaction.submitted"
MINED = "transaction.mined"
CONFIRMED = "transaction.confirmed"
REVERTED = "transaction.reverted"
FAILED = "transaction.failed"
REORGED = "transaction.reorged"
CANCELLED = "transaction.cancelled"
EVENT_TYPES = (SUBMITTED, MINED, CONFIRMED, REVERTED, FAILED, REORGED, CANCELLED)

_BY_STATUS = {"submitted": SUBMITTED, "mined": MINED, "confirmed": CONFIRMED,
              "reverted": REVERTED, "failed": FAILED, "cancelled": CANCELLED}


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    tx_id: str
    seq: int
    created_at: str


def event_type(history: list[HistoryEntry], index: int) -> str | None:
    """The event history entry ``index`` stands for, or ``None``."""
    entry = history[index]
    previous = history[index - 1].status if index > 0 else None
    if entry.status == previous:
        return None
    if entry.status == "submitted" and previous == "mined":
        return REORGED  # the block holding it was replaced; it waits for a block again
    return _BY_STATUS.get(entry.status)


def events_between(record: TxRecord, start: int, end: int,
                   view: dict[str, Any] | None = None) -> list[Event]:
    """The events of history entries ``start`` to ``end - 1`` (clamped to the history)."""
    shown = view if view is not None else record.to_api()
    out: list[Event] = []
    for i in range(max(0, start), min(end, len(record.history))):
        kind = event_type(record.history, i)
        if kind is not None:
            out.append(Event(f"evt_{record.id}_{i}", kind, record.id, i,
                             str(shown["history"][i]["at"])))
    return out


def event_body(event: Event, view: dict[str, Any]) -> bytes:
    """The JSON every delivery of ``event`` sends: ``{"id", "type", "createdAt", "data"}``
    with ``data`` the record's public view when the event was recorded."""
    doc = {"id": event.id, "type": event.type, "createdAt": event.created_at, "data": view}
    return json.dumps(doc, separators=(",", ":")).encode()

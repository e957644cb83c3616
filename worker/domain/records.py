"""Transaction records: what a client asked for and every fact learned since.

A record is the single source of truth for one transaction. It is stored as JSON in Redis
(``worker.store.records``), the queue carries only its id, and every pipeline stage reads it
first and does nothing if its work is already done.

Statuses, each naming one fact:

``queued``     accepted and saved; no worker has signed it yet (a nonce may already be held)
``signed``     the raw transaction is signed and saved; not yet accepted by the node
``submitted``  the node accepted the raw transaction (or already knew it)
``mined``      a receipt exists in a block that does not yet have enough confirmations
``confirmed``  mined with status 1 and at least KVSIGNER_CONFIRMATIONS blocks deep
``reverted``   mined with status 0 and at least KVSIGNER_CONFIRMATIONS blocks deep
``failed``     given up; ``error`` says why (no transaction of it is pending on chain)
``cancelled``  withdrawn before broadcast, or replaced on chain by a 0-value self-transfer
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    QUEUED = "queued"
    SIGNED = "signed"
    SUBMITTED = "submitted"
    MINED = "mined"
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.CONFIRMED, Status.REVERTED, Status.FAILED, Status.CANCELLED})


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    """A random record id (UUID4, hex without dashes)."""
    return uuid.uuid4().hex


@dataclass
class TxRequest:
    """A validated transaction request: addresses checksummed, numbers as ints, data as
    0x-hex. ``None`` means "kvsigner chooses". Built by ``worker.domain.requests``."""

    sender: str
    to: str | None = None
    value: int = 0
    data: str = "0x"
    gas: int | None = None
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    type: int | None = None
    access_list: list[dict[str, Any]] | None = None
    chain_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The request in the API's field names (hex-free numbers as decimal strings)."""
        out: dict[str, Any] = {"from": self.sender, "to": self.to, "value": str(self.value),
                               "data": self.data}
        for key, attr in (("gas", "gas"), ("gasPrice", "gas_price"),
                          ("maxFeePerGas", "max_fee_per_gas"),
                          ("maxPriorityFeePerGas", "max_priority_fee_per_gas")):
            val = getattr(self, attr)
            if val is not None:
                out[key] = str(val)
        if self.type is not None:
            out["type"] = self.type
        if self.access_list is not None:
            out["accessList"] = self.access_list
        if self.chain_id is not None:
            out["chainId"] = self.chain_id
        return out


@dataclass
class HistoryEntry:
    status: str
    at: int
    note: str = ""


@dataclass
class TxRecord:
    """One transaction. Mutated only through ``worker.store.records.RecordStore.update``."""

    id: str
    request: TxRequest
    chain_id: int
    status: Status = Status.QUEUED
    metadata: dict[str, Any] | None = None
    webhook_url: str | None = None
    idempotency_key: str | None = None
    # Who asked, for the audit log and logs: the API key's name and the request id.
    api_key: str | None = None
    request_id: str | None = None
    # Chosen by the worker, in the nonce critical section (before signing).
    nonce: int | None = None
    gas: int | None = None
    tx_type: int | None = None
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    # Saved before broadcast: the exact bytes that go to the node.
    raw: str | None = None
    hash: str | None = None
    hashes: list[str] = field(default_factory=list)
    # True once a broadcast may have reached the node (accepted, or an ambiguous failure such
    # as a timeout): from then on the nonce is never handed back.
    sent: bool = False
    broadcast_at: int | None = None  # when the current ``raw`` was last sent (ms)
    bumps: int = 0  # fee bumps so far (replacements of a stuck transaction)
    # A cancellation replaces the transaction with a 0-value self-transfer (same nonce).
    cancel_requested: bool = False
    cancel_hashes: list[str] = field(default_factory=list)
    # "request": asked for by a client; "filler": a 0-value self-transfer kvsigner sends to
    # fill a nonce that would otherwise stay a gap.
    kind: str = "request"
    receipt: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    attempts: int = 0
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.request.sender

    def transition(self, status: Status, note: str = "") -> None:
        """Move to ``status`` and append it to the history (a no-op note-less repeat of the
        current status is not recorded twice)."""
        at = now_ms()
        if status != self.status or note:
            self.history.append(HistoryEntry(status.value, at, note))
        self.status = status
        self.updated_at = at

    def note(self, text: str) -> None:
        """Record an event in the history without changing the status."""
        self.history.append(HistoryEntry(self.status.value, now_ms(), text))
        self.updated_at = now_ms()

    def fail(self, code: str, message: str) -> None:
        self.error = {"code": code, "message": message}
        self.transition(Status.FAILED, code)

    # --- serialisation ------------------------------------------------------------------

    def to_json_dict(self) -> dict[str, Any]:
        """Storage form (lossless); shares nothing mutable with the record. Written field
        by field (not ``dataclasses.asdict``): it runs on every record write."""
        data = {name: _copy(getattr(self, name)) for name in _RECORD_FIELDS}
        data["request"] = {name: _copy(getattr(self.request, name))
                           for name in _REQUEST_FIELDS}
        data["history"] = [{"status": h.status, "at": h.at, "note": h.note}
                           for h in self.history]
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> TxRecord:
        data = dict(data)
        data["request"] = TxRequest(**data["request"])
        data["status"] = Status(data["status"])
        data["history"] = [HistoryEntry(**h) for h in data.get("history", [])]
        return cls(**data)

    def to_api(self) -> dict[str, Any]:
        """The public view returned by ``GET /transactions/{id}``."""
        fees: dict[str, str] = {}
        for key, val in (("gasPrice", self.gas_price), ("maxFeePerGas", self.max_fee_per_gas),
                         ("maxPriorityFeePerGas", self.max_priority_fee_per_gas)):
            if val is not None:
                fees[key] = str(val)
        return {
            "id": self.id,
            "status": self.status.value,
            "chainId": self.chain_id,
            "request": self.request.to_dict(),
            "from": self.request.sender,
            "to": self.request.to,
            "nonce": self.nonce,
            "gas": None if self.gas is None else str(self.gas),
            "type": self.tx_type,
            "fees": fees,
            "hash": self.hash,
            "hashes": list(self.hashes),
            "bumps": self.bumps,
            "cancelRequested": self.cancel_requested,
            "kind": self.kind,
            "receipt": self.receipt,
            "error": self.error,
            "metadata": self.metadata,
            "webhookUrl": self.webhook_url,
            "idempotencyKey": self.idempotency_key,
            "requestId": self.request_id,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "history": [{"status": h.status, "at": _iso(h.at), "note": h.note}
                        for h in self.history],
        }


def _iso(ms: int) -> str:
    secs, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem:03d}Z"


_RECORD_FIELDS = tuple(f.name for f in fields(TxRecord))
_REQUEST_FIELDS = tuple(f.name for f in fields(TxRequest))


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value

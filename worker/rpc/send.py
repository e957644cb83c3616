"""``eth_sendTransaction``: accept through the pipeline, then wait for the broadcast.

The transaction takes exactly the path of ``POST /transactions`` (``submit_transaction``:
validation, record, queue, nonce, vault signature, broadcast, receipts), so it is listed
under ``GET /transactions`` like any other. The JSON-RPC caller expects a transaction hash,
so the call polls the record until the node has accepted the transaction and answers with
its hash; a record that fails becomes a JSON-RPC error carrying the record's error code and
id. Waiting longer than the timeout is an error too, but the transaction is not lost: the
message names the record, which stays queued and is still sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from worker.domain.records import Status, TxRecord
from worker.rpc.errors import SEND_TIMEOUT, SERVER_ERROR, RpcError
from worker.services import Services
from worker.submit import submit_transaction

#: The node has accepted the transaction: its hash is final (a later fee bump would change
#: ``record.hash``, but the caller already holds a hash it can look up).
BROADCAST = frozenset({Status.SUBMITTED, Status.MINED, Status.CONFIRMED, Status.REVERTED})


def send_transaction(services: Services, tx: dict[str, Any], enqueue: Callable[[str], None],
                     timeout: float, poll_seconds: float) -> str:
    """Submit ``tx`` and return its hash once broadcast.

    Raises ``ValidationError`` (nothing stored) for a request ``POST /transactions`` would
    refuse, including a given ``nonce`` (kvsigner assigns nonces); ``RpcError`` (-32000) when
    the record fails (``data.code`` is its error code, ``data.id`` the record) or is not
    broadcast within ``timeout`` seconds (``data.code == "send_timeout"``).
    """
    record, _ = submit_transaction(services, tx, enqueue=enqueue, allow_extra=False)
    return wait_for_broadcast(services.store.get, record.id, timeout, poll_seconds)


def wait_for_broadcast(load: Callable[[str], TxRecord | None], tx_id: str, timeout: float,
                       poll_seconds: float, clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> str:
    """Poll ``load(tx_id)`` until the record is broadcast (its hash) or failed (an error).

    One Redis GET per poll: cheap enough at 50-100 ms for the few seconds a send takes.
    """
    deadline = clock() + timeout
    status = Status.QUEUED
    while True:
        rec = load(tx_id)
        if rec is not None:
            status = rec.status
            if status in BROADCAST and rec.hash:
                return rec.hash
            if status == Status.FAILED:
                raise _failed(rec)
        remaining = deadline - clock()
        if remaining <= 0:
            raise _timed_out(tx_id, status, timeout)
        sleep(min(poll_seconds, remaining))


def _failed(rec: TxRecord) -> RpcError:
    error = rec.error or {}
    code = error.get("code", "internal_error")
    message = error.get("message") or "the transaction failed"
    return RpcError(SERVER_ERROR, message, {"code": code, "id": rec.id})


def _timed_out(tx_id: str, status: Status, timeout: float) -> RpcError:
    return RpcError(
        SERVER_ERROR,
        f"transaction {tx_id} was accepted but not broadcast within {timeout:g} s (status "
        f"{status.value}); it is still queued and will be sent: follow it at "
        f"GET /transactions/{tx_id}",
        {"code": SEND_TIMEOUT, "id": tx_id, "status": status.value})

"""Cancelling a transaction.

Before any broadcast can have reached the node, the record is simply withdrawn: it ends
``cancelled`` and its nonce (if it had one) goes back to the sender, so no gap forms. After
a broadcast, the nonce is already spoken for on the network, so the transaction is replaced
by a 0-value self-transfer with the same nonce at bumped fees; the record ends ``cancelled``
when that replacement is mined, or ``confirmed``/``reverted`` with a note if the original
won the race.
"""

from __future__ import annotations

import time

from worker import context
from worker.domain.errors import KvsignerError
from worker.domain.records import Status, TxRecord
from worker.services import Services
from worker.store.records import RecordNotFound

LEASE_WAIT_SECONDS = 10.0


def cancel_transaction(services: Services, tx_id: str) -> TxRecord:
    """Withdraw or replace ``tx_id``; returns the record afterwards.

    Raises ``KvsignerError('not_found')``, ``KvsignerError('not_cancellable')`` for a record
    that is mined or finished, and ``node_unavailable`` (retryable) when a worker holds the
    record for longer than ``LEASE_WAIT_SECONDS``. Idempotent: cancelling a record whose
    cancellation is already under way returns it unchanged.
    """
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        with services.leases.hold(f"tx:{tx_id}", services.settings.lease_seconds) as held:
            if held:
                return _cancel_held(services, tx_id)
        if time.monotonic() > deadline:
            raise KvsignerError("node_unavailable", "a worker is busy with this transaction; "
                                "try again", retryable=True)
        time.sleep(0.1)


def _cancel_held(services: Services, tx_id: str) -> TxRecord:
    try:
        rec = services.store.require(tx_id)
    except RecordNotFound:
        raise KvsignerError("not_found", "no such transaction") from None
    if rec.status.terminal or rec.status == Status.MINED:
        raise KvsignerError("not_cancellable", f"the transaction is already {rec.status}")
    if rec.cancel_requested:
        return rec
    pipeline = services.pipeline
    if not rec.sent:
        if rec.nonce is not None:
            services.nonces.release(tx_id, pipeline.chain_id)

        def withdraw(r: TxRecord) -> None:
            if not r.status.terminal and not r.sent:
                r.raw, r.hash = None, None
                r.transition(Status.CANCELLED, "cancelled before broadcast")

        rec, _ = services.store.update(tx_id, withdraw)
        pipeline.on_change(rec)
        if rec.status == Status.CANCELLED:
            return rec
    with context.bound(tx_id=tx_id, purpose="cancellation"):
        replaced = pipeline.replacer.replace(tx_id, cancel=True,
                                             note="cancellation requested")
    if replaced is None:
        raise KvsignerError("not_cancellable", "no replacement could be signed within the "
                            "fee cap (KVSIGNER_MAX_FEE_CAP_WEI)")
    return replaced

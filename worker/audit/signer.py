"""``AuditedSigner``: the ``DigestSigner`` through which every vault signature passes.

``Services.signer`` hands out only this wrapper, so the pipeline, replacements, fillers,
cancellations and JSON-RPC signing all sign through it; nothing else in kvsigner holds the
vault signer. For each digest it:

1. appends a ``requested`` entry (who, which key, the digest) and, if that fails, raises
   ``audit_unavailable`` without calling the vault (fail closed);
2. calls the vault;
3. appends ``signed`` (r, s, v) or ``failed`` (the error code). If ``signed`` cannot be
   written the signature is withheld (``audit_unavailable``): no signature leaves without
   its record. A lost ``failed`` entry is only logged: the vault's own error is raised.

``sign_transaction`` assembles the raw transaction inside ``transaction_audit``, whose
``result(raw)`` appends a ``result`` entry with the transaction hash (known only once the raw
transaction exists), linked by ``signingId``. Inside that block the ``signed`` entry waits
for it, and both are written in one round trip; the raw transaction is handed out only once
they are. When the block ends without a result (the transaction could not be assembled), the
waiting ``signed`` entry is written then: every signature the vault made keeps its entry.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from worker import context, metrics
from worker.audit.log import Also, AuditLog
from worker.domain.errors import KvsignerError, ValidationError
from worker.domain.records import TxRecord
from worker.signing.base import DigestSigner, Signature, VaultAccount
from worker.signing.ratelimit import VaultRateLimiter

log = logging.getLogger("kvsigner.audit")

#: Purposes refined from the record when a worker signs for a transaction id.
REFINABLE = (None, "transaction")
#: Attempts at writing a ``signed`` or ``result`` entry before the signature is withheld.
COMPLETION_ATTEMPTS = 2


def purpose_of(rec: TxRecord | None) -> str | None:
    """What signing for ``rec`` means: ``filler``, ``cancellation``, ``replacement`` (the
    record was signed before: a fee bump or a new nonce) or ``transaction``."""
    if rec is None:
        return None
    if rec.kind == "filler":
        return "filler"
    if rec.cancel_requested:
        return "cancellation"
    return "replacement" if rec.hashes else "transaction"


@dataclass(frozen=True)
class _Signed:
    signing_id: str
    who: dict[str, str | None]


@dataclass
class _Held:
    """A ``signed`` entry waiting for its transaction's ``result`` (``transaction_audit``),
    with the metrics that ride on its write."""

    entry: Mapping[str, object]
    also: Also | None


# The last signature made in this thread/task, for the ``result`` entry that follows it.
_last: ContextVar[_Signed | None] = ContextVar("kvsigner_audit_last", default=None)
# Inside ``transaction_audit``: a list that holds the ``signed`` entry until the result.
_holding: ContextVar[list[_Held] | None] = ContextVar("kvsigner_audit_holding", default=None)
# The record the caller is signing for, as it holds it (``signing_for``).
_record: ContextVar[TxRecord | None] = ContextVar("kvsigner_audit_record", default=None)


@contextmanager
def signing_for(record: TxRecord) -> Iterator[None]:
    """Signatures in this block are for ``record``, in the version the caller built the
    transaction from: its purpose is read from it instead of being looked up again."""
    token = _record.set(record)
    try:
        yield
    finally:
        _record.reset(token)


class AuditedSigner:
    """Wraps ``inner`` so that every ``sign_digest`` is recorded in ``audit``.

    ``describe(tx_id)`` (optional) returns the record of a transaction id, used to refine
    a bound purpose of ``transaction`` (see ``purpose_of``). ``pace``: the rate limiter
    ``inner`` calls before each vault attempt; the first attempt's slot is reserved in the
    ``requested`` entry's round trip. Thread-safe when ``inner`` is.
    """

    def __init__(self, inner: DigestSigner, audit: AuditLog,
                 describe: Callable[[str], TxRecord | None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 pace: VaultRateLimiter | None = None) -> None:
        self.inner = inner
        self.audit = audit
        self._describe = describe
        self._clock = clock
        self._pace = pace
        self._process = f"{socket.gethostname()}:{os.getpid()}"

    def accounts(self) -> list[VaultAccount]:
        return self.inner.accounts()

    def account(self, address: str) -> VaultAccount:
        return self.inner.account(address)

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        """Sign through the vault with records before and after (module docstring).

        Raises what ``inner.sign_digest`` raises (after a ``failed`` entry), the errors of
        ``account()`` (nothing recorded: nothing could be signed), ``ValidationError`` for a
        digest that is not 32 bytes, and ``audit_unavailable`` (retryable) when the
        ``requested`` or ``signed`` entry cannot be written.
        """
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise ValidationError("invalid_field", "digest must be exactly 32 bytes")
        who = self._who(self.inner.account(address))
        signing_id = uuid.uuid4().hex
        base = {**who, "signingId": signing_id, "digest": "0x" + bytes(digest).hex()}
        slot: list[Any] = []  # the rate limiter's reservation rides on this round trip
        self.audit.append({**base, "status": "requested"},
                          also=self._pace.queue_reserve if self._pace else None, replies=slot)
        started = self._clock()
        try:
            with metrics.recording(self.audit.r), self._slot(slot):
                signature = self.inner.sign_digest(address, bytes(digest))
        except Exception as exc:
            seconds = self._clock() - started
            metrics.vault_sign(self.audit.r, seconds, ok=False)
            code = exc.code if isinstance(exc, KvsignerError) else "internal_error"
            self._record_failure({**base, "status": "failed", "error": code,
                                  "durationMs": int(seconds * 1000)})
            raise
        seconds = self._clock() - started
        signed = {**base, "status": "signed", "r": f"0x{signature.r:064x}",
                  "s": f"0x{signature.s:064x}", "v": 27 + signature.recid,
                  "durationMs": int(seconds * 1000)}

        def sample(pipe: Any) -> None:  # the latency sample rides on the entry's round trip
            metrics.queue_vault_sign(pipe, seconds, ok=True)

        holding = _holding.get()
        if holding is None:
            self._complete([signed], sample)
        else:
            self.flush_held()  # an earlier signature of this block is written first
            holding.append(_Held(signed, sample))
        _last.set(_Signed(signing_id, who))
        return signature

    def record_result(self, raw: bytes) -> None:
        """Append the ``result`` entry of the raw transaction just assembled from this
        context's last signature: its hash, keccak256(raw), after the ``signed`` entry
        ``transaction_audit`` holds, in the same round trip. Raises ``audit_unavailable``
        when they cannot be written (the caller must then not use the transaction)."""
        last = _last.get()
        _last.set(None)
        who = last.who if last is not None else {}
        result = {**who, "signingId": last.signing_id if last else None,
                  "status": "result", "txHash": "0x" + keccak(raw).hex()}
        held = _take_held()
        if held is None:
            self._complete([result])
        else:
            self._complete([held.entry, result], held.also)

    def flush_held(self) -> None:
        """Write the ``signed`` entry ``transaction_audit`` holds, if any, on its own.
        Raises ``audit_unavailable`` when it cannot be written."""
        held = _take_held()
        if held is not None:
            self._complete([held.entry], held.also)

    def close(self) -> None:
        closer: Any = getattr(self.inner, "close", None)
        if callable(closer):
            closer()

    # --- internals -------------------------------------------------------------------------

    def _slot(self, replies: list[Any]) -> AbstractContextManager[None]:
        if self._pace is None or not replies:
            return nullcontext()
        return self._pace.reserved(replies[0])

    def _who(self, account: VaultAccount) -> dict[str, str | None]:
        tx_id, purpose = context.tx_id.get(), context.purpose.get()
        held = _record.get()
        if tx_id is not None and purpose in REFINABLE and held is not None \
                and held.id == tx_id:
            purpose = purpose_of(held) or purpose
        elif tx_id is not None and purpose in REFINABLE and self._describe is not None:
            try:
                purpose = purpose_of(self._describe(tx_id)) or purpose
            except Exception:  # only a refinement: the bound purpose stands
                log.debug("purpose lookup of %s failed", tx_id, exc_info=True)
        return {"purpose": purpose, "txId": tx_id, "requestId": context.request_id.get(),
                "apiKey": context.api_key.get(), "address": account.address,
                "keyName": account.key_name, "keyVersion": account.key_version,
                "keyId": account.key_id, "process": self._process}

    def _complete(self, entries: Sequence[Mapping[str, object]],
                  also: Also | None = None) -> None:
        """Append ``entries`` in one round trip, a second time if the first fails. ``also``
        (metrics) rides only on the first attempt: a lost sample is better than one
        counted twice."""
        for attempt in range(COMPLETION_ATTEMPTS):
            try:
                self.audit.append_all(entries, also if attempt == 0 else None)
                return
            except KvsignerError:
                if attempt + 1 == COMPLETION_ATTEMPTS:
                    log.error("audit %s entry of signing %s not written; signature withheld",
                              "+".join(str(e.get("status")) for e in entries),
                              entries[0].get("signingId"))
                    raise

    def _record_failure(self, entry: dict[str, object]) -> None:
        try:
            self.audit.append(entry)
        except KvsignerError:
            log.error("audit failed entry of signing %s not written", entry.get("signingId"))


def _take_held() -> _Held | None:
    """The ``signed`` entry ``transaction_audit`` holds, taken out (None: none held)."""
    holding = _holding.get()
    return holding.pop() if holding else None


@contextmanager
def transaction_audit(signer: object) -> Iterator[Callable[[bytes], None]]:
    """The block in which ``sign_transaction`` signs and assembles one transaction; yields
    ``result(raw)``, to be called with the raw transaction before it is handed out.

    With an ``AuditedSigner``, the block's ``signed`` entry waits for ``result``, which writes
    it and the ``result`` entry in one round trip. An entry still waiting when the block ends
    (assembly failed) is written then; if that fails too, the block's own error is raised
    (the signature goes nowhere) or, without one, ``audit_unavailable``. For any other
    signer, ``result`` does nothing.
    """
    if not isinstance(signer, AuditedSigner):
        yield _no_result
        return
    token = _holding.set([])
    failed = True
    try:
        yield signer.record_result
        failed = False
    finally:
        try:
            signer.flush_held()
        except KvsignerError:
            if not failed:
                raise  # logged by _complete
        finally:
            _holding.reset(token)


def _no_result(raw: bytes) -> None:
    """``transaction_audit``'s ``result`` for a signer without an audit log."""

"""Redis-backed transaction records, idempotency keys and listing indexes.

Keys (all under ``kvsigner:``):

``tx:{id}``                 the record as JSON
``idem:{key}``              ``{"hash": sha256 of the canonical body, "id": record id}``
``idx:all``                 sorted set of ``{created_ms:015d}:{id}`` members (lexicographic)
``idx:from:{address}``      the same, per sender
``idx:status:{status}``     the same, per current status
``active``                  ids that are not terminal yet (for the sweeper and reconciler)

Listings over the indexes are ``worker.store.listing``.

Every write goes through ``create`` (a MULTI transaction) or ``update`` (one compare-and-set
script that writes the record, its status index and the active set; a caller that must
change other keys with it passes a script built on the same write, ``record_script``), so a
record, its indexes and its idempotency key never disagree, and two workers updating one
record cannot lose each other's write.

Each store remembers the text of the records it last read or wrote (a bounded memo): an
update first offers that text to the compare-and-set script instead of reading the record,
so the usual read-change-write of a record one worker is driving costs one round trip. A
memo that is out of date only costs that trip: the script answers with the current text and
the change is applied again to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from worker.domain.errors import ValidationError
from worker.domain.records import TERMINAL, Status, TxRecord, now_ms
from worker.lru import LruMap
from worker.store.text import as_text

PREFIX = "kvsigner:"
T = TypeVar("T")

# The write of one record, as a Lua function every record-writing script starts with.
# keys: the record, its old status index, its new status index, the active set.
# argv: the text the caller changed, the new text, seconds to live (0: none), the record's
# index member, its id, 1 when the new status is terminal.
# Returns {1} when written, {0, current} when the stored text was another, {} when missing.
_COMPARE_AND_SET_FUNCTION = """
local function compare_and_set(keys, argv)
  local current = redis.call('GET', keys[1])
  if not current then return {} end
  if current ~= argv[1] then return {0, current} end
  if argv[3] ~= '0' then
    redis.call('SET', keys[1], argv[2], 'EX', argv[3])
  else
    redis.call('SET', keys[1], argv[2])
  end
  if keys[2] ~= keys[3] then
    redis.call('ZREM', keys[2], argv[4])
    redis.call('ZADD', keys[3], 0, argv[4])
  end
  if argv[6] == '1' then
    redis.call('SREM', keys[4], argv[5])
  else
    redis.call('SADD', keys[4], argv[5])
  end
  return {1}
end
"""
#: Arguments of ``compare_and_set``; a script's own keys and arguments follow them.
RECORD_KEYS, RECORD_ARGS = 4, 6


def record_script(body: str) -> str:
    """A script that writes a record and more, atomically: ``body`` runs with
    ``compare_and_set(keys, argv)`` defined and the record's own keys and arguments first in
    KEYS and ARGV (``RECORD_KEYS``, ``RECORD_ARGS``); its own follow. It must return what
    ``compare_and_set`` returned, or ``{code}`` with a negative code of its own (see
    ``RecordStore.update``)."""
    return _COMPARE_AND_SET_FUNCTION + body


_COMPARE_AND_SET = record_script("return compare_and_set(KEYS, ARGV)\n")


@dataclass
class WriteWith:
    """For ``RecordStore.update``: write through ``script`` (made by ``record_script``)
    with ``also(record)``'s keys and arguments appended to the record's (asked once the
    change is made, so they may depend on it). ``written`` is set once the script wrote
    (an update that changes nothing runs no script)."""

    script: Any
    also: Callable[[TxRecord], tuple[Sequence[str], Sequence[Any]]]
    written: bool = False


class ScriptRefused(Exception):
    """A record script answered with its own negative ``code`` and wrote nothing."""

    def __init__(self, code: int) -> None:
        super().__init__(f"record script refused the write (code {code})")
        self.code = code


def body_fingerprint(body: Any) -> str:
    """A stable hash of a JSON body (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _member(rec: TxRecord) -> str:
    return f"{rec.created_at:015d}:{rec.id}"


class RecordNotFound(KeyError):
    pass


class RecordStore:
    """Records in Redis. Thread-safe as long as the ``redis.Redis`` client is (it is)."""

    def __init__(self, client: redis.Redis, ttl_seconds: int = 30 * 24 * 3600,
                 memo_size: int = 4096) -> None:
        self.r = client
        self.ttl = ttl_seconds
        self._cas = client.register_script(_COMPARE_AND_SET)
        # Record id -> the text this store last read or wrote for it (see the module doc).
        self._texts: LruMap[str, str] = LruMap(memo_size)

    # --- keys ---------------------------------------------------------------------------
    @staticmethod
    def key(tx_id: str) -> str:
        return f"{PREFIX}tx:{tx_id}"

    @staticmethod
    def _idem_key(key: str) -> str:
        return f"{PREFIX}idem:{hashlib.sha256(key.encode()).hexdigest()}"

    # --- create -------------------------------------------------------------------------
    def create(self, rec: TxRecord, idempotency_key: str | None = None,
               fingerprint: str | None = None,
               also: Callable[[Any], Callable[[list[Any]], None] | None] | None = None
               ) -> tuple[TxRecord, bool]:
        """Save a new record; returns ``(record, created)``.

        With an idempotency key already used for the same ``fingerprint``, returns the
        existing record and ``created=False`` (nothing written). Used with another
        fingerprint: raises ``ValidationError('idempotency_conflict')``. ``also(pipe)``
        queues more commands in the same transaction (only when the record is created) and
        may return a function, which is called with the transaction's replies once it ran
        (all of them, in order: a command's index is ``len(pipe.command_stack)`` just
        before it was queued).
        """
        idem = self._idem_key(idempotency_key) if idempotency_key else None
        with self.r.pipeline() as pipe:
            while True:
                try:
                    if idem:
                        pipe.watch(idem)
                        existing = pipe.get(idem)
                        if existing is not None:
                            saved = json.loads(existing)
                            if saved["hash"] != fingerprint:
                                raise ValidationError(
                                    "idempotency_conflict",
                                    "this Idempotency-Key was used with a different request")
                            pipe.unwatch()
                            found = self.get(saved["id"])
                            if found is None:
                                raise RecordNotFound(saved["id"])
                            return found, False
                    pipe.multi()
                    if idem:
                        pipe.set(idem, json.dumps({"hash": fingerprint, "id": rec.id}),
                                 ex=self.ttl)
                    self._write_new(pipe, rec)
                    after = also(pipe) if also is not None else None
                    replies = pipe.execute()
                    if after is not None:
                        after(replies)
                    return rec, True
                except redis.WatchError:
                    continue

    # --- read ---------------------------------------------------------------------------
    def get(self, tx_id: str) -> TxRecord | None:
        return self.parse(tx_id, self.r.get(self.key(tx_id)))

    def get_many(self, ids: Sequence[str]) -> list[TxRecord | None]:
        """The records of ``ids`` in order (None where missing), read in one round trip."""
        if not ids:
            return []
        raws = self.r.mget([self.key(i) for i in ids])
        return [self.parse(tx_id, raw) for tx_id, raw in zip(ids, raws, strict=True)]

    def parse(self, tx_id: str, raw: Any) -> TxRecord | None:
        """Record ``tx_id`` from its stored bytes, read by a round trip of the caller's (None
        for None); remembered like every read."""
        if raw is None:
            return None
        text = as_text(raw)
        rec = TxRecord.from_json_dict(json.loads(text))
        self._texts.put(tx_id, text)  # only once it parsed: a memo is always a record
        return rec

    def require(self, tx_id: str) -> TxRecord:
        rec = self.get(tx_id)
        if rec is None:
            raise RecordNotFound(tx_id)
        return rec

    # --- update -------------------------------------------------------------------------
    def update(self, tx_id: str, change: Callable[[TxRecord], T],
               write_with: WriteWith | None = None) -> tuple[TxRecord, T]:
        """Apply ``change`` to the current record atomically and return it with ``change``'s
        result. ``change`` may run more than once (on a concurrent write) and must only
        mutate the record it is given. Raises ``RecordNotFound``.

        It changes the text this store last saw (the memo, else a read) and writes it only
        if that is still the stored one; otherwise it changes the stored one. A change that
        leaves the record as it is writes nothing. ``write_with``: a script that writes
        other keys in the same atomic step (the nonce allocator); its own refusal raises
        ``ScriptRefused``.
        """
        text = self._texts.get(tx_id)
        fresh = text is None
        if text is None:
            text = self._read_text(tx_id)
        while True:
            rec = TxRecord.from_json_dict(json.loads(text))
            previous = rec.status
            try:
                result = change(rec)
            except Exception:
                if fresh:
                    raise
                # The memo may be out of date: only the stored record's verdict counts.
                text, fresh = self._read_text(tx_id), True
                continue
            # The stored form is the only one that matters, and it is written by this same
            # serialisation: equal text means nothing changed (text that differs only in
            # form costs one needless write, never a lost change).
            new_text = json.dumps(rec.to_json_dict())
            if new_text == text:
                if fresh:
                    return rec, result
                # Nothing to write for the memo's version; the stored one may be newer.
                text, fresh = self._read_text(tx_id), True
                continue
            answer = self._replace(rec, previous, text, new_text, write_with)
            if not answer:
                raise RecordNotFound(tx_id)
            code = int(answer[0])
            if code == 1:
                self._texts.put(tx_id, new_text)
                if write_with is not None:
                    write_with.written = True
                return rec, result
            if code < 0:
                raise ScriptRefused(code)
            text, fresh = as_text(answer[1]), True  # another write came first: change that
            self._texts.put(tx_id, text)

    def _read_text(self, tx_id: str) -> str:
        raw = self.r.get(self.key(tx_id))
        if raw is None:
            raise RecordNotFound(tx_id)
        return as_text(raw)

    def _replace(self, rec: TxRecord, previous: Status, old_text: str, new_text: str,
                 write_with: WriteWith | None) -> Any:
        """Run the compare-and-set script (or ``write_with``'s): ``rec`` (now ``new_text``)
        replaces ``old_text``, and its status index and active-set membership follow from
        ``previous``."""
        terminal = rec.status.terminal
        keys: list[Any] = [self.key(rec.id), f"{PREFIX}idx:status:{previous}",
                           f"{PREFIX}idx:status:{rec.status}", f"{PREFIX}active"]
        args: list[Any] = [old_text, new_text, self.ttl if terminal else 0, _member(rec),
                           rec.id, 1 if terminal else 0]
        if write_with is None:
            return self._cas(keys=keys, args=args)
        more_keys, more_args = write_with.also(rec)
        return write_with.script(keys=keys + list(more_keys), args=args + list(more_args))

    def _write_new(self, pipe: Any, rec: TxRecord) -> None:
        """Queue a new record and its index entries."""
        member = _member(rec)
        pipe.set(self.key(rec.id), json.dumps(rec.to_json_dict()),
                 ex=self.ttl if rec.status.terminal else None)
        pipe.zadd(f"{PREFIX}idx:all", {member: 0})
        pipe.zadd(f"{PREFIX}idx:from:{rec.sender}", {member: 0})
        pipe.zadd(f"{PREFIX}idx:status:{rec.status}", {member: 0})
        if rec.status.terminal:
            pipe.srem(f"{PREFIX}active", rec.id)
        else:
            pipe.sadd(f"{PREFIX}active", rec.id)

    def active_records(self, mentioning: str | None = None,
                       batch: int = 500) -> Iterator[tuple[str, TxRecord | None]]:
        """``(id, record)`` for every id in the active set, read ``batch`` at a time (one
        MGET each; the record is None when it expired or was deleted).

        ``mentioning``: skip, unparsed, every stored record whose text does not contain this
        string (e.g. an address, which records store verbatim): a pass over one sender's
        live records then parses only the records that name it.
        """
        ids: list[str] = []
        cursor = 0
        while True:
            cursor, raws = self.r.sscan(f"{PREFIX}active", cursor, count=batch)
            ids.extend(as_text(raw) for raw in raws)
            # A cursor of 0 ends the scan; SSCAN's ``count`` is a hint, so cut by size too.
            while len(ids) >= batch or (cursor == 0 and ids):
                chunk, ids = ids[:batch], ids[batch:]
                for tx_id, raw in zip(chunk, self.r.mget([self.key(i) for i in chunk]),
                                      strict=True):
                    if raw is None:
                        yield tx_id, None
                    elif mentioning is None or mentioning in as_text(raw):
                        yield tx_id, self.parse(tx_id, raw)
            if cursor == 0:
                return

    def count_by_status(self) -> dict[str, int]:
        """Records per status. Finished records expire after the retention time; their
        index entries are dropped by ``prune_expired`` (run by the sweeper)."""
        return {s.value: int(self.r.zcard(f"{PREFIX}idx:status:{s.value}")) for s in Status}

    def prune_expired(self, batch: int = 500) -> int:
        """Drop index entries of expired records, oldest first, until a batch finds none.
        Covers ``idx:all`` and the terminal status indexes (a sender index is pruned
        lazily by listings: the expired record no longer names its sender). Returns how
        many members were removed.

        A record expires the retention time after it finished, so never sooner than that
        after it was created: an index whose oldest member (members begin with their
        creation time) is younger is left unread. An entry whose record was deleted some
        other way goes once it is that old."""
        removed = 0
        youngest_expirable = f"{now_ms() - self.ttl * 1000:015d}"
        for index in [f"{PREFIX}idx:all"] + [f"{PREFIX}idx:status:{s}" for s in TERMINAL]:
            while True:
                members = [as_text(m)
                           for m in self.r.zrangebylex(index, "-", "+", start=0, num=batch)]
                if not members or members[0] > youngest_expirable:
                    break
                with self.r.pipeline(transaction=False) as pipe:
                    for m in members:
                        pipe.exists(self.key(m.split(":", 1)[1]))
                    alive = pipe.execute()
                gone = [m for m, ok in zip(members, alive, strict=True) if not ok]
                if not gone:
                    break
                removed += int(self.r.zrem(index, *gone))
                if len(gone) < len(members):
                    break
        return removed


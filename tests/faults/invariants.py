"""What must hold after every fault, whatever the fault was.

1. Every accepted transaction reaches a terminal status (and so does every record kvsigner
   created itself, such as gap fillers), and the service settles: no active records, no
   handed-back nonces waiting, nothing of its senders left pending on the node.
2. Each sender's mined nonces are contiguous: the nonces the chain consumed since the
   scenario started are exactly the nonces of our mined transactions plus those of known
   outside transactions, each once.
3. No transaction was mined twice: at most one of a record's signed hashes has a receipt,
   a finished record's receipt is that hash, a failed record has none, and no hash belongs
   to two records.
4. No two records signed for the same (sender, nonce): every hash signed for one
   (sender, nonce) belongs to one record (replacements stay inside their record).

``check`` returns a ``Verdict`` with the counts for the scenario's summary line and the list
of violations; the test asserts that list is empty after emitting the line.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis
import requests

from tests.faults.stack import FaultStack, Posted

TERMINAL = {"confirmed", "reverted", "failed", "cancelled"}
REQUEUED_NOTE = "was used by another transaction"


def all_records(fs: FaultStack) -> list[dict[str, Any]]:
    """Every record in the store, through the API's listing (newest first)."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(f"{fs.api}/transactions", params=params, headers=fs.headers,
                            timeout=30).json()
        out.extend(page["transactions"])
        cursor = page.get("nextCursor")
        if not cursor:
            return out


def _statuses(fs: FaultStack, ids: list[str]) -> dict[str, str | None]:
    """Current status of each id, read from Redis in one round trip (cheap enough to poll
    for a thousand records without loading the API)."""
    with fs.redis.pipeline(transaction=False) as pipe:
        for tx_id in ids:
            pipe.get(f"kvsigner:tx:{tx_id}")
        raws = pipe.execute()
    return {tx_id: (None if raw is None else json.loads(raw)["status"])
            for tx_id, raw in zip(ids, raws, strict=True)}


def wait_terminal(fs: FaultStack, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Poll until every id is terminal; AssertionError with a sample of the rest. Returns
    the records (API view)."""
    pending = list(ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        try:
            # Cheap gate: read the pending records only once the store holds at least as
            # many finished records as there are ids (all of them may be done).
            finished = sum(int(fs.redis.zcard(f"kvsigner:idx:status:{s}")) for s in TERMINAL)
            current = _statuses(fs, pending) if finished >= len(ids) else {}
        except redis.RedisError:  # Redis restarting on purpose: look again
            current = {}
        pending = [i for i in pending if current.get(i, "") not in TERMINAL]
        if pending:
            time.sleep(0.5)
    if pending:
        sample = {}
        for tx_id in pending[:5]:
            rec = fs.get(tx_id)
            sample[tx_id] = (rec["status"], rec["nonce"], rec["bumps"],
                             [h["note"] for h in rec["history"][-3:]])
        raise AssertionError(f"{len(pending)} of {len(ids)} accepted transactions not "
                             f"terminal after {timeout:.0f}s; e.g. {sample}")
    return {tx_id: fs.get(tx_id) for tx_id in ids}


def unsettled(fs: FaultStack, senders: list[str]) -> list[str]:
    """Why the stack is not settled yet (empty when it is)."""
    why: list[str] = []
    active = int(fs.redis.scard("kvsigner:active"))
    if active:
        why.append(f"{active} active records")
    chain_id = fs.chain_id
    for sender in senders:
        key = f"kvsigner:nonce:{chain_id}:{sender}"
        members: list[bytes] = fs.redis.zrange(key + ":free", 0, -1)  # type: ignore[assignment]
        free = sorted(int(m) for m in members)
        latest, pending = fs.nonce(sender), fs.nonce(sender, "pending")
        raw_next = fs.redis.hget(key, "next")
        nxt = None if raw_next is None else int(raw_next)
        if free:
            why.append(f"{sender[:8]} free nonces {free}")
        if pending != latest:
            why.append(f"{sender[:8]} pending {pending} != latest {latest}")
        if nxt is not None and nxt != latest:
            why.append(f"{sender[:8]} next {nxt} != chain {latest}")
    return why


def wait_settled(fs: FaultStack, senders: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    why: list[str] = []
    while time.monotonic() < deadline:
        why = unsettled(fs, senders)
        if not why:
            return
        time.sleep(0.5)
    raise AssertionError(f"not settled after {timeout:.0f}s: {'; '.join(why)}")


_ASSIGNED = re.compile(r"(?:^nonce|^fills nonce) (\d+)(?: assigned)?$")
_REPLACED = re.compile(r"replaced by (0x[0-9a-fA-F]{64})")


def nonces_from_history(rec: dict[str, Any]) -> dict[str, int]:
    """Which nonce each of the record's hashes was signed for, read from its history: a
    ``nonce N assigned`` (or a filler's ``fills nonce N``) note sets the nonce, each
    transition to ``signed`` adds the next hash of ``hashes``, each ``replaced by H`` note
    adds H. Empty when the history does not account for every hash."""
    replaced = {m.group(1) for h in rec["history"] for m in [_REPLACED.search(h["note"])]
                if m}
    plain = iter([h for h in rec["hashes"] if h not in replaced])
    out: dict[str, int] = {}
    current: int | None = None
    for entry in rec["history"]:
        note = entry["note"]
        assigned = _ASSIGNED.match(note)
        if assigned:
            current = int(assigned.group(1))
        elif REQUEUED_NOTE in note:
            current = None
        elif (m := _REPLACED.search(note)) and current is not None:
            out[m.group(1)] = current
        elif entry["status"] == "signed" and not note:
            tx_hash = next(plain, None)
            if tx_hash is None or current is None:
                return {}
            out[tx_hash] = current
    return out if set(out) == set(rec["hashes"]) else {}


@dataclass
class Verdict:
    records: list[dict[str, Any]]
    violations: list[str] = field(default_factory=list)
    double_signed: list[tuple[str, int]] = field(default_factory=list)  # (sender, nonce)
    counts: dict[str, Any] = field(default_factory=dict)


def _lookup(fs: FaultStack, hashes: list[str]) -> dict[str, tuple[Any, Any]]:
    """hash -> (node transaction or None, receipt or None), fetched in parallel."""
    def one(h: str) -> tuple[str, tuple[Any, Any]]:
        return h, (fs.rpc("eth_getTransactionByHash", h),
                   fs.rpc("eth_getTransactionReceipt", h))

    with ThreadPoolExecutor(6) as pool:
        return dict(pool.map(one, hashes))


def check(fs: FaultStack, start: dict[str, int], accepted: list[str],
          outside: list[str] | None = None) -> Verdict:
    """Check the four invariants. ``start``: each sender's chain nonce before the batch;
    ``outside``: hashes of transactions sent behind kvsigner's back (they may take nonces)."""
    records = all_records(fs)
    by_id = {r["id"]: r for r in records}
    v = Verdict(records)
    bad = v.violations

    # 1. terminal
    for tx_id in accepted:
        rec = by_id.get(tx_id)
        if rec is None:
            bad.append(f"accepted {tx_id} is missing from the store")
    for rec in records:
        if rec["status"] not in TERMINAL:
            bad.append(f"{rec['kind']} {rec['id']} is {rec['status']}")

    all_hashes = sorted({h for r in records for h in r["hashes"]} | set(outside or []))
    found = _lookup(fs, all_hashes)
    seen = fs.proxy.seen_by_hash() if fs.proxy is not None else {}

    # 3. mined once; 4. one record per (sender, nonce)
    owner: dict[str, str] = {}
    signed_for: dict[tuple[str, int], set[str]] = defaultdict(set)
    unknown_nonce = 0
    mined_nonces: dict[str, list[int]] = defaultdict(list)
    for rec in records:
        sender = rec["from"].lower()
        mined = [h for h in rec["hashes"] if found[h][1] is not None]
        if len(mined) > 1:
            bad.append(f"{rec['id']} has {len(mined)} mined hashes: {mined}")
        status = rec["status"]
        receipt_hash = (rec["receipt"] or {}).get("transactionHash")
        if status in ("confirmed", "reverted") or (status == "cancelled" and receipt_hash):
            if mined != [receipt_hash]:
                bad.append(f"{rec['id']} {status} with receipt {receipt_hash} but mined "
                           f"hashes {mined}")
        elif mined:
            bad.append(f"{rec['id']} is {status} but {mined[0]} of it was mined")
        for h in mined:
            tx = found[h][0]
            mined_nonces[sender].append(int(tx["nonce"], 16))
            if rec["nonce"] is not None and int(tx["nonce"], 16) != rec["nonce"]:
                bad.append(f"{rec['id']} says nonce {rec['nonce']}, mined with "
                           f"{int(tx['nonce'], 16)}")
        from_history = nonces_from_history(rec)
        for h in rec["hashes"]:
            if h in owner and owner[h] != rec["id"]:
                bad.append(f"hash {h} belongs to {owner[h]} and {rec['id']}")
            owner[h] = rec["id"]
            nonce: int | None = None
            if h in seen:
                nonce = seen[h].nonce
            elif found[h][0] is not None:
                nonce = int(found[h][0]["nonce"], 16)
            elif h in from_history:
                nonce = from_history[h]
            if nonce is None:
                unknown_nonce += 1
            else:
                signed_for[(sender, nonce)].add(rec["id"])
    for (sender, nonce), ids in sorted(signed_for.items()):
        if len(ids) > 1:
            v.double_signed.append((sender, nonce))
            bad.append(f"{sender[:10]} nonce {nonce} signed by {len(ids)} records "
                       f"{sorted(ids)}")

    # 2. contiguous mined nonces (ours plus outside ones)
    for h in outside or []:
        tx, receipt = found[h]
        if receipt is not None:
            mined_nonces[tx["from"].lower()].append(int(tx["nonce"], 16))
    for sender, first in start.items():
        low = sender.lower()
        latest, pending = fs.nonce(sender), fs.nonce(sender, "pending")
        got = sorted(mined_nonces.get(low, []))
        want = list(range(first, latest))
        if got != want:
            dupes = sorted(n for n, c in Counter(got).items() if c > 1)
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            bad.append(f"{sender[:10]} mined nonces not contiguous {first}..{latest - 1}: "
                       f"missing {missing} duplicated {dupes} outside {extra}")
        if pending != latest:
            bad.append(f"{sender[:10]} has {pending - latest} transactions still pending")

    # counts for the summary line
    status_counts = Counter(r["status"] for r in records if r["kind"] == "request")
    failed = Counter((r["error"] or {}).get("code", "?") for r in records
                     if r["status"] == "failed" and r["kind"] == "request")
    fillers = [r for r in records if r["kind"] == "filler"]
    v.counts = {
        "records": len(records),
        "status": dict(status_counts),
        "failed": dict(failed),
        "bumped": sum(1 for r in records if r["bumps"] > 0),
        "bumps": sum(r["bumps"] for r in records),
        "multi_hash": sum(1 for r in records if len(r["hashes"]) > 1),
        "fillers": len(fillers),
        "filler_status": dict(Counter(r["status"] for r in fillers)),
        "requeued": sum(1 for r in records
                        if any(REQUEUED_NOTE in h["note"] for h in r["history"])),
        "hashes": len(all_hashes),
        "unknown_nonce_hashes": unknown_nonce,
        "broadcasts_seen": len(seen),
    }
    return v


def summary(name: str, posted: Posted, verdict: Verdict, stats: dict[str, int],
            seconds: float, extra: str = "") -> str:
    """The scenario's one readable line."""
    c = verdict.counts
    st = c.get("status", {})
    refused = ",".join(f"{k}:{n}" for k, n in sorted(posted.refused.items())) or "0"
    failed = ",".join(f"{k}:{n}" for k, n in sorted(c.get("failed", {}).items()))
    unknown = c.get("unknown_nonce_hashes", 0)
    parts = [
        f"sent={posted.sent}", f"accepted={len(posted.ids)}", f"refused={refused}",
        f"confirmed={st.get('confirmed', 0)}", f"reverted={st.get('reverted', 0)}",
        f"failed={st.get('failed', 0)}" + (f"({failed})" if failed else ""),
        f"cancelled={st.get('cancelled', 0)}",
        f"bumped={c.get('bumped', 0)}(bumps={c.get('bumps', 0)})",
        f"fillers={c.get('fillers', 0)}", f"requeued={c.get('requeued', 0)}",
        f"429s={stats.get('signs_throttled', 0)}", f"signs={stats.get('signs_ok', 0)}",
        f"violations={len(verdict.violations)}",
        *([f"hashes_without_known_nonce={unknown}"] if unknown else []),
        f"time={seconds:.0f}s",
    ]
    line = f"[faults] {name}: " + " ".join(parts)
    return line + (f" | {extra}" if extra else "")

"""Did the pipeline keep its promises? Nonce gaps and duplicates, from records and chain.

For each sender the benchmark's transactions must be mined with exactly the nonces
``start .. start+n-1`` (``start`` being the sender's transaction count before the run), no
``(sender, nonce)`` may belong to two records, and no hash may be reported twice. The chain
is the judge: every record's receipt hash is looked up and its ``from`` and ``nonce`` used,
and a record whose own nonce disagrees with the chain is counted too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ops.bench.rpc import transactions
from worker.chain.node import NodeClient


@dataclass(frozen=True)
class NonceReport:
    """``gaps``: nonces of ``start .. start+n-1`` that none of a sender's mined records has;
    ``duplicates``: extra records per ``(sender, nonce)`` plus extra uses of a hash;
    ``mismatched``: records whose nonce is not the nonce of their mined transaction."""

    gaps: int
    duplicates: int
    mismatched: int


def check_nonces(node: NodeClient, records: Iterable[Mapping[str, Any]],
                 start: Mapping[str, int]) -> NonceReport:
    """Compare ``records`` (as the API returns them) with the chain; ``start`` maps each
    sender (any letter case) to its nonce before the run."""
    records = list(records)
    first = {s.lower(): n for s, n in start.items()}
    mined_hashes = [r["receipt"]["transactionHash"] for r in records if r.get("receipt")]
    on_chain = transactions(node, mined_hashes)
    count: Counter[str] = Counter()
    mined: dict[str, set[int]] = defaultdict(set)
    claimed: Counter[tuple[str, int]] = Counter()
    mismatched = 0
    for rec in records:
        sender = str(rec["from"]).lower()
        count[sender] += 1
        if rec.get("nonce") is not None:
            claimed[(sender, int(rec["nonce"]))] += 1
        receipt = rec.get("receipt")
        tx = on_chain.get(receipt["transactionHash"]) if receipt else None
        if tx is None:
            continue
        nonce = int(tx["nonce"], 16)
        if str(tx["from"]).lower() != sender or nonce != rec.get("nonce"):
            mismatched += 1
        mined[sender].add(nonce)
    gaps = sum(len(set(range(first[s], first[s] + n)) - mined[s]) for s, n in count.items())
    duplicates = sum(c - 1 for c in claimed.values() if c > 1)
    duplicates += len(mined_hashes) - len(set(mined_hashes))
    return NonceReport(gaps=gaps, duplicates=duplicates, mismatched=mismatched)

"""Which broadcast transactions are being followed, and when each is next looked at.

Keys (under ``kvsigner:``):

``tracked``        sorted set: record id -> when (ms since the epoch) its receipts are due
``track-chain``    ``{token}:{n}``, the one live chain of receipt rounds (see
                   ``worker.receipt_rounds``); it expires when no round has run for a while

A record is added when it is broadcast and stays until a round sees it finished (or handed
back for a new nonce). Removal is conditional on the due time a round read, so a record
that was added again meanwhile (a new broadcast) is never dropped by a stale round.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

import redis

from worker.store.records import PREFIX
from worker.store.text import as_text

KEY = f"{PREFIX}tracked"
CHAIN_KEY = f"{PREFIX}track-chain"

# ARGV: triples of (id, score read, new score or ''). A move applies only if the member
# still has the score the round read.
_SETTLE = """
local moved = 0
for i = 1, #ARGV, 3 do
    local current = redis.call('zscore', KEYS[1], ARGV[i])
    if current and tonumber(current) == tonumber(ARGV[i + 1]) then
        if ARGV[i + 2] == '' then
            redis.call('zrem', KEYS[1], ARGV[i])
        else
            redis.call('zadd', KEYS[1], ARGV[i + 2], ARGV[i])
        end
        moved = moved + 1
    end
end
return moved
"""

# Hand the chain on: only the holder of the current token may, and only once.
_ADVANCE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""

#: A move decided by a round: (score read, new score or None to remove).
Move = tuple[float, float | None]


def _ms() -> int:
    return int(time.time() * 1000)


class TrackedSet:
    """The set of followed records and the token of the receipt-round chain."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self._settle = client.register_script(_SETTLE)
        self._advance = client.register_script(_ADVANCE)

    def add(self, tx_id: str, delay: float, chain_ttl: float) -> str | None:
        """Follow ``tx_id`` from ``delay`` seconds on. Returns a new chain token when no
        chain of rounds is alive (the caller starts one with it), else None."""
        return self.add_many({tx_id: delay}, chain_ttl)

    def add_many(self, delays: Mapping[str, float], chain_ttl: float) -> str | None:
        """``add`` for each id -> delay of ``delays`` (not empty), in one round trip."""
        token = _new_token()
        now = _ms()
        with self.r.pipeline(transaction=False) as pipe:
            pipe.zadd(KEY, {tx_id: now + int(delay * 1000) for tx_id, delay in delays.items()})
            pipe.set(CHAIN_KEY, token, nx=True, px=_px(chain_ttl))
            _, started = pipe.execute()
        return token if started else None

    def contains(self, tx_id: str) -> bool:
        return self.r.zscore(KEY, tx_id) is not None

    def followed(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` that are followed, asked in one round trip."""
        if not ids:
            return set()
        with self.r.pipeline(transaction=False) as pipe:
            for tx_id in ids:
                pipe.zscore(KEY, tx_id)
            scores = pipe.execute()
        return {tx_id for tx_id, score in zip(ids, scores, strict=True) if score is not None}

    def size(self) -> int:
        return int(self.r.zcard(KEY))

    def due(self, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` (id, due score) pairs that are due now, earliest first."""
        rows: list[Any] = self.r.zrangebyscore(KEY, "-inf", _ms(), start=0, num=limit,
                                               withscores=True)
        return [(as_text(member), float(score)) for member, score in rows]

    def next_due_in(self) -> float | None:
        """Seconds until the earliest record is due (<= 0: now), or None when none is."""
        rows: list[Any] = self.r.zrange(KEY, 0, 0, withscores=True)
        return (float(rows[0][1]) - _ms()) / 1000.0 if rows else None

    def settle(self, moves: dict[str, Move]) -> int:
        """Apply each (read score -> new score, or removal) where the score is unchanged.
        Returns how many applied."""
        if not moves:
            return 0
        args: list[str] = []
        for tx_id, (read, new) in moves.items():
            args += [tx_id, repr(read), "" if new is None else str(int(new))]
        return int(self._settle(keys=[KEY], args=args))

    # --- the chain of rounds ------------------------------------------------------------
    def start_chain(self, ttl: float) -> str | None:
        """A token for a new chain, or None when one is alive."""
        token = _new_token()
        return token if self.r.set(CHAIN_KEY, token, nx=True, px=_px(ttl)) else None

    def advance(self, token: str, ttl: float) -> str | None:
        """The chain's next token if ``token`` is the current one (it is then used up),
        else None: this message belongs to a chain that was replaced or ran on."""
        base, _, n = token.rpartition(":")
        if not base or not n.isdigit():
            return None
        following = f"{base}:{int(n) + 1}"
        return following if self._advance(keys=[CHAIN_KEY], args=[token, following, _px(ttl)]) \
            else None


def _new_token() -> str:
    return f"{secrets.token_hex(8)}:0"


def _px(seconds: float) -> int:
    return max(1, int(seconds * 1000))

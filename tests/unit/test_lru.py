"""The bounded per-process memo map."""

from __future__ import annotations

from worker.lru import LruMap


def test_least_recently_used_entries_go_first() -> None:
    memo: LruMap[str, int] = LruMap(size=2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recently used
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    memo.put("a", 4)
    assert memo.get("a") == 4

"""The shared vault rate limiter against a real Redis: callers in several threads (standing
for several workers) together stay within the limit."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from worker.signing.ratelimit import VaultRateLimiter


def test_many_callers_together_stay_under_the_limit(redis_url: str) -> None:
    limit, window, burst = 40, 1.0, 4
    stamps: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        limiter = VaultRateLimiter(redis.Redis.from_url(redis_url), "https://v.example",
                                   limit, window=window, burst=burst)
        for _ in range(15):
            limiter.acquire(timeout=30)
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 90
    stamps.sort()
    # In any one window no more than limit + burst calls went through...
    for i, start in enumerate(stamps):
        in_window = sum(1 for s in stamps[i:] if s - start < window)
        assert in_window <= limit + burst, (i, in_window)
    # ...and 90 calls at 40/s cannot finish in much under (90 - burst) / 40 seconds.
    assert stamps[-1] - stamps[0] >= (90 - burst) / limit * 0.9


def test_separate_vaults_do_not_share_a_budget(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    a = VaultRateLimiter(client, "https://a.example", 1, window=60, burst=1)
    b = VaultRateLimiter(client, "https://b.example", 1, window=60, burst=1)
    assert a.try_acquire() == 0
    assert b.try_acquire() == 0
    assert a.try_acquire() > 50  # the next slot of vault a is a minute away


def test_waiting_callers_ask_once_and_go_at_their_slot(redis_url: str) -> None:
    limiter = VaultRateLimiter(redis.Redis.from_url(redis_url), "https://once.example",
                               20, window=1.0, burst=1)
    asked = 0
    script = limiter._script

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal asked
        asked += 1
        return script(*args, **kwargs)

    limiter._script = counting  # type: ignore[assignment]
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.acquire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert asked == 8  # one reservation each, no re-asking while waiting
    assert time.monotonic() - started >= 7 / 20 * 0.9  # still spaced at the rate


def test_a_wait_beyond_the_timeout_reserves_nothing(redis_url: str) -> None:
    limiter = VaultRateLimiter(redis.Redis.from_url(redis_url), "https://slow.example",
                               1, window=60, burst=1)
    limiter.acquire()
    with pytest.raises(TimeoutError):
        limiter.acquire(timeout=1)
    assert 50 < limiter.try_acquire() <= 60  # the refused caller took no slot

"""The per-key GCRA limiter on the real Redis (its check-and-update is a Lua script)."""

from __future__ import annotations

import time

import pytest
import redis

from worker.auth.ratelimit import RateLimiter, retry_after


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def test_burst_then_rate(client: redis.Redis) -> None:
    limiter = RateLimiter(client, rate=2.0, burst=3)
    assert [limiter.wait_seconds("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.wait_seconds("k")
    assert 0.3 < wait <= 0.5  # the next slot opens one interval (0.5 s) after the burst
    assert limiter.wait_seconds("other") == 0.0  # keys are counted separately
    time.sleep(wait + 0.02)
    assert limiter.wait_seconds("k") == 0.0
    assert limiter.wait_seconds("k") > 0


def test_limit_is_shared_between_limiters(client: redis.Redis, redis_url: str) -> None:
    other_client = redis.Redis.from_url(redis_url)
    first, second = RateLimiter(client, 1.0, 2), RateLimiter(other_client, 1.0, 2)
    assert first.wait_seconds("k") == 0.0
    assert second.wait_seconds("k") == 0.0
    assert first.wait_seconds("k") > 0 and second.wait_seconds("k") > 0
    other_client.close()


def test_refused_requests_are_not_counted(client: redis.Redis) -> None:
    limiter = RateLimiter(client, rate=1.0, burst=1)
    assert limiter.wait_seconds("k") == 0.0
    waits = [limiter.wait_seconds("k") for _ in range(20)]
    assert all(0 < w <= 1.0 for w in waits)  # hammering does not push the slot further away


def test_default_burst_and_off_switch(client: redis.Redis) -> None:
    assert RateLimiter(client, 50.0).burst == 100
    assert RateLimiter(client, 0.2).burst == 1
    off = RateLimiter(client, 0.0)
    assert not off.enabled and all(off.wait_seconds("k") == 0.0 for _ in range(100))
    assert client.keys("kvsigner:ratelimit:*") == []


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after(w) for w in (0.001, 0.5, 1.0, 1.01, 7.2)] == [1, 1, 1, 2, 8]


def test_admit_counts_only_while_the_needed_key_exists(client: redis.Redis) -> None:
    limiter = RateLimiter(client, rate=1.0, burst=1)
    client.delete("rec")
    assert limiter.admit("k", "rec") is None  # gone (a revoked API key): refused, not counted
    client.set("rec", "1")
    assert limiter.admit("k", "rec") == 0.0
    wait = limiter.admit("k", "rec")
    assert wait is not None and 0 < wait <= 1.0
    client.delete("rec")
    assert limiter.admit("k", "rec") is None
    off = RateLimiter(client, rate=0)
    assert off.admit("k", "rec") is None  # the existence check holds with the limit off
    client.set("rec", "1")
    assert [off.admit("k", "rec") for _ in range(5)] == [0.0] * 5

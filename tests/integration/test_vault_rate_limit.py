"""The shared vault rate limiter against a real Redis: callers in several threads (standing
for several workers) together stay within the limit."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from eth_utils import to_checksum_address

from tests.integration.redis_trips import counted_trips
from worker.audit import STREAM, AuditedSigner, AuditLog
from worker.signing.base import Signature, VaultAccount
from worker.signing.ratelimit import VaultRateLimiter

ADDRESS = "0x" + "ab" * 20


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


def reservation(client: redis.Redis, limiter: VaultRateLimiter, timeout: float = 60.0) -> object:
    """The reply of ``queue_reserve`` made on a round trip of its own."""
    with client.pipeline(transaction=False) as pipe:
        limiter.queue_reserve(pipe, timeout)
        return pipe.execute(raise_on_error=False)[0]


def test_a_slot_reserved_on_another_round_trip_is_taken_by_the_next_acquire(
        redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = VaultRateLimiter(client, "https://ride.example", 1, window=60, burst=1)
    reply = reservation(client, limiter)
    with limiter.reserved(reply):
        limiter.acquire(timeout=1)  # asking would find the next slot a minute away
        with pytest.raises(TimeoutError):
            limiter.acquire(timeout=1)  # a retry asks again
    with pytest.raises(TimeoutError):
        limiter.acquire(timeout=1)  # and so does any call after the block


def test_a_reserved_slot_further_on_is_waited_for(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    slept: list[float] = []
    limiter = VaultRateLimiter(client, "https://wait.example", 10, window=1.0, burst=1,
                               sleep=slept.append)
    limiter.acquire()
    with limiter.reserved(reservation(client, limiter)):
        assert len(slept) == 1 and 0.05 < slept[0] <= 0.1  # the slot 100 ms on
        limiter.acquire()
    assert len(slept) == 1


def test_a_reservation_that_reserved_nothing_leaves_acquire_to_ask(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limiter = VaultRateLimiter(client, "https://full.example", 1, window=60, burst=1)
    limiter.acquire()
    reply = reservation(client, limiter, timeout=1)
    assert isinstance(reply, int) and reply < 0
    with limiter.reserved(reply), pytest.raises(TimeoutError):
        limiter.acquire(timeout=1)
    client.hset("kvsigner:ratelimit:vault:https://broken.example", "x", "1")
    broken = VaultRateLimiter(client, "https://broken.example", 1, window=60, burst=1)
    reply = reservation(client, broken)
    assert isinstance(reply, redis.ResponseError)
    with broken.reserved(reply), pytest.raises(redis.ResponseError):  # a reply that is an error
        broken.acquire(timeout=1)  # asked again, and failed again


class PacedVault:
    """A DigestSigner that, like the Azure signer, asks the rate limiter before its call."""

    def __init__(self, limiter: VaultRateLimiter) -> None:
        self.limiter = limiter
        self.account_ = VaultAccount(address=to_checksum_address(ADDRESS), key_name="k",
                                     key_version="v", key_id="https://ride.example/keys/k/v",
                                     public_key=b"")

    def accounts(self) -> list[VaultAccount]:
        return [self.account_]

    def account(self, address: str) -> VaultAccount:
        return self.account_

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        self.limiter.acquire()
        return Signature(r=1, s=1, recid=0)


def test_the_audited_signer_reserves_the_slot_with_its_requested_entry(
        redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    slept: list[float] = []
    limiter = VaultRateLimiter(client, "https://ride.example", 1, window=60, burst=1,
                               sleep=slept.append)
    signer = AuditedSigner(PacedVault(limiter), AuditLog(client), pace=limiter)
    trips = counted_trips(client)
    signer.sign_digest(ADDRESS, bytes(32))
    # The requested entry with the reservation, then the signed entry with its metrics:
    # the vault call's own ask was answered by the reservation.
    assert trips == ["pipeline", "pipeline"]
    assert [f[b"status"] for _, f in client.xrange(STREAM)] == [b"requested", b"signed"]
    assert slept == []
    trips.clear()
    signer.sign_digest(ADDRESS, bytes(32))
    assert trips == ["pipeline", "pipeline"]
    assert len(slept) == 1 and 59 < slept[0] <= 60  # the limiter binds: the next slot

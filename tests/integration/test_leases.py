"""Leases against a real Redis: one holder at a time, and the guarded value read with the
lease in one round trip."""

from __future__ import annotations

import pytest
import redis

from worker.store.leases import Leases

pytestmark = pytest.mark.integration


def test_a_lease_read_takes_one_round_trip_and_one_holder(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("kvsigner:test:guarded", "v1")
    leases = Leases(client)
    trips: list[str] = []
    real = client.pipeline

    def counting(*args: object, **kwargs: object) -> object:
        trips.append("pipeline")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    client.pipeline = counting  # type: ignore[method-assign]
    with leases.hold_reading("x", 5, "kvsigner:test:guarded") as (taken, value):
        assert (taken, value, trips) == (True, b"v1", ["pipeline"])
        with leases.hold_reading("x", 5, "kvsigner:test:guarded") as (again, _):
            assert not again  # held: a second holder is refused
        with leases.hold_reading("y", 5, "kvsigner:test:missing") as (other, nothing):
            assert other and nothing is None
    with leases.hold("x", 5) as free:
        assert free  # released on exit

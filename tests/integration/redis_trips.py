"""Counting a Redis client's round trips, for tests that hold code to a number of them."""

from __future__ import annotations

from typing import Any

import redis


def counted_trips(client: redis.Redis) -> list[str]:
    """From now on, each round trip ``client`` makes appends an entry to the returned list:
    the command's name, or ``pipeline`` for a pipeline (a MULTI or a batch)."""
    trips: list[str] = []
    real_pipeline, real_command = client.pipeline, client.execute_command

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        trips.append("pipeline")
        return real_pipeline(*args, **kwargs)

    def command(*args: Any, **kwargs: Any) -> Any:
        trips.append(str(args[0]))
        return real_command(*args, **kwargs)

    client.pipeline = pipeline  # type: ignore[method-assign]
    client.execute_command = command  # type: ignore[method-assign]
    return trips

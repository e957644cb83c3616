"""Shared fixtures: real services started once per test session.

Redis, anvil and the Key Vault emulator run as child processes on free loopback ports with
their files under a temporary directory; nothing depends on services already running on the
machine. Tests that need a clean slate flush Redis or use their own fixture instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.processes import ManagedProcess, start_anvil, start_emulator, start_redis


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def redis_server(services_dir: Path) -> Iterator[ManagedProcess]:
    proc = start_redis(services_dir / "redis")
    yield proc
    proc.stop()


@pytest.fixture
def redis_url(redis_server: ManagedProcess) -> str:
    """URL of the session Redis, flushed before the test."""
    import redis

    url = str(redis_server.extra["url"])
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    return url


@pytest.fixture(scope="session")
def anvil(services_dir: Path) -> Iterator[ManagedProcess]:
    proc = start_anvil(services_dir / "anvil")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def emulator(services_dir: Path) -> Iterator[ManagedProcess]:
    """A Key Vault emulator with 3 generated keys; ``extra['env']`` points kvsigner at it.

    Shared by the whole session: tests may read from it and sign with it, but must not add
    keys or leave faults configured (start an own instance for that)."""
    proc = start_emulator(services_dir / "emulator", keys=3)
    yield proc
    proc.stop()

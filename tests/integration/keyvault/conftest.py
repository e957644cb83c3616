"""Fixtures of the Key Vault emulator tests: each module gets an emulator of its own (not the
session one: these tests create keys, with unique names), SDK clients for it, and the admin
client with every runtime setting restored after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.keyvault_emulator.admin import EmulatorAdmin
from ops.processes import ManagedProcess, start_emulator
from tests.integration.keyvault.helpers import Vault, connect


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedProcess]:
    """This module creates and imports keys: it gets an emulator of its own, so the shared
    session emulator keeps exactly its generated keys for other tests."""
    proc = start_emulator(tmp_path_factory.mktemp("kv-emulator-tests"), keys=3)
    yield proc
    proc.stop()


@pytest.fixture
def vault(own_emulator: ManagedProcess) -> Iterator[Vault]:
    v = connect(dict(own_emulator.extra["env"]))  # type: ignore[call-overload]
    yield v
    v.keys.close()
    v.admin.close()


@pytest.fixture
def faults(vault: Vault) -> Iterator[EmulatorAdmin]:
    """The admin client; every runtime setting is restored after the test."""
    before = vault.admin.config()
    try:
        yield vault.admin
    finally:
        vault.admin.configure(**before)

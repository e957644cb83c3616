"""Fixtures of the REST API tests: settings for the session's emulator and anvil, one vault
signer per module, and a fresh app over a flushed Redis per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.processes import ManagedProcess
from tests.integration.api.helpers import Api, make_api, vault_env
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner
from worker.signing.factory import build_signer


@pytest.fixture(scope="module")
def base_settings(emulator: ManagedProcess, anvil: ManagedProcess) -> Settings:
    return Settings.from_env(vault_env(emulator), node_url=str(anvil.extra["url"]))


@pytest.fixture(scope="module")
def signer(base_settings: Settings) -> Iterator[AzureKeyVaultSigner]:
    with build_signer(base_settings) as vault_signer:
        yield vault_signer


@pytest.fixture
def accounts(signer: AzureKeyVaultSigner) -> list[str]:
    return [a.address for a in signer.accounts()]


@pytest.fixture
def api(base_settings: Settings, signer: AzureKeyVaultSigner, redis_url: str) -> Iterator[Api]:
    built = make_api(base_settings, signer, redis_url=redis_url)
    yield built
    built.redis.close()

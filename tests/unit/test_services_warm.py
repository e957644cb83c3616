"""``Services.warm``: loads the vault's accounts and the chain id once, and never raises."""

from __future__ import annotations

import logging

import pytest

from ops.processes import free_port
from worker.domain.errors import VaultError
from worker.services import Services
from worker.settings import Settings
from worker.signing.base import Signature, VaultAccount

SECRET_WORDS = "client secret hunter2"


class CountingSigner:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls = 0

    def accounts(self) -> list[VaultAccount]:
        self.calls += 1
        if self.fail:
            raise VaultError("vault_auth_failed", f"token request failed: {SECRET_WORDS}")
        return []

    def account(self, address: str) -> VaultAccount:
        raise AssertionError("not used")

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        raise AssertionError("not used")


def services(signer: CountingSigner, chain_id: int | None) -> Services:
    closed = free_port()
    return Services(Settings(redis_url=f"redis://127.0.0.1:{closed}/0",
                             node_url=f"http://127.0.0.1:{closed}", chain_id=chain_id,
                             node_timeout=2.0),
                    signer=signer)  # type: ignore[arg-type]


def test_warm_loads_the_accounts(caplog: pytest.LogCaptureFixture) -> None:
    signer = CountingSigner()
    svc = services(signer, chain_id=5)
    with caplog.at_level(logging.WARNING):
        svc.warm()
    assert signer.calls == 1
    assert svc.chain_id() == 5
    assert not caplog.records


def test_warm_logs_what_failed_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    signer = CountingSigner(fail=True)
    svc = services(signer, chain_id=None)  # the node is not there either
    with caplog.at_level(logging.WARNING):
        svc.warm()  # does not raise
    assert signer.calls == 1
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "vault's accounts" in messages[0] and "vault_auth_failed" in messages[0]
    assert "chain id" in messages[1]
    assert all(SECRET_WORDS not in m for m in messages)

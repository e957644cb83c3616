"""Shared pieces of the REST API tests: a test client over real services, and helpers.
(The fixtures are in this folder's conftest.py.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import redis
from flask import Flask
from flask.testing import FlaskClient

from api.app import create_app
from ops.processes import ManagedProcess
from worker.services import Services
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner

TO = "0x8617E340B3D01FA5F11F306F4090FD50E238070D".lower()


class Api:
    """A test client plus what the app enqueued and raw access to its Redis."""

    def __init__(self, services: Services,
                 enqueue: Callable[[str], None] | None = None) -> None:
        self.services = services
        self.enqueued: list[str] = []
        self.app: Flask = create_app(services, enqueue or self.enqueued.append)
        self.client: FlaskClient = self.app.test_client()
        self.redis: redis.Redis = services.redis

    def post(self, body: Any, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post("/transactions", json=body, headers=headers)

    def redis_keys(self) -> set[bytes]:
        return {k if isinstance(k, bytes) else k.encode() for k in self.redis.keys("kvsigner:*")}


def make_api(settings: Settings, signer: AzureKeyVaultSigner,
             enqueue: Callable[[str], None] | None = None, **changes: Any) -> Api:
    return Api(Services(settings.replace(**{"auth": "off", **changes}), signer=signer), enqueue)


def vault_env(emulator: ManagedProcess) -> dict[str, str]:
    return cast(dict[str, str], emulator.extra["env"])


def error_code(resp: Any) -> str:
    assert resp.is_json, resp.data
    return str(resp.get_json()["error"]["code"])


def transfer(sender: str, **extra: Any) -> dict[str, Any]:
    """A valid transfer request body from ``sender``."""
    return {"from": sender, "to": TO, "value": "1", **extra}

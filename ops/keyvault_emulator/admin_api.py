"""The admin endpoint under ``/_admin``: runtime faults, key switches and counters.

Every call needs ``Authorization: Bearer <KVSIGNER_EMULATOR_ADMIN_TOKEN>`` (no Key Vault
token). Bodies are JSON objects; errors use the vault's error shape.

    GET  /_admin/config                    current FaultConfig fields
    POST /_admin/config                    change some fields, returns all of them
    GET  /_admin/keys                      every key with its versions and enabled flags
    POST /_admin/keys/{name}/enabled       {"enabled": bool, "version"?: str}
    GET  /_admin/stats                     counters (see stats.COUNTERS)
    POST /_admin/stats/reset               zero the counters, returns them
"""

from __future__ import annotations

import hmac
from typing import Any

from .errors import VaultError, bad_parameter
from .faults import Faults
from .keystore import KeyStore
from .messages import Request, Response, json_response
from .stats import Stats


class AdminApi:
    """Serves ``/_admin`` requests for one emulator instance."""

    def __init__(self, token: str, store: KeyStore, faults: Faults, stats: Stats) -> None:
        self._token = token
        self.store = store
        self.faults = faults
        self.stats = stats

    def handle(self, req: Request) -> Response:
        """Serve one admin request; raises ``VaultError`` for error replies."""
        given = req.bearer_token() or ""
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            raise VaultError(401, "Unauthorized", "The admin endpoint needs the admin token.")
        route = (req.method, *req.segments[1:])
        if route == ("GET", "config"):
            return json_response(200, self.faults.config.as_dict())
        if route == ("POST", "config"):
            try:
                config = self.faults.configure(req.json())
            except ValueError as exc:
                raise bad_parameter(str(exc)) from None
            return json_response(200, config.as_dict())
        if route == ("GET", "keys"):
            return json_response(200, {"keys": [self._describe(k.name)
                                                for k in self.store.latest_keys()]})
        if len(route) == 4 and route[0] == "POST" and route[1] == "keys" \
                and route[3] == "enabled":
            return self._set_enabled(req, route[2])
        if route == ("GET", "stats"):
            return json_response(200, self.stats.snapshot())
        if route == ("POST", "stats", "reset"):
            self.stats.reset()
            return json_response(200, self.stats.snapshot())
        raise VaultError(404, "NotFound", f"{req.method} {req.path} is not an admin operation.")

    def _describe(self, name: str) -> dict[str, Any]:
        versions = self.store.versions(name)
        return {"name": versions[0].name, "latest": versions[-1].version,
                "versions": [{"version": v.version, "enabled": v.enabled, "crv": v.crv,
                              "kty": v.kty} for v in versions]}

    def _set_enabled(self, req: Request, name: str) -> Response:
        body = req.json()
        enabled, version = body.get("enabled"), body.get("version")
        if not isinstance(enabled, bool):
            raise bad_parameter("'enabled' must be true or false.")
        if version is not None and not isinstance(version, str):
            raise bad_parameter("'version' must be a string.")
        changed = self.store.set_enabled(name, enabled, version or None)
        return json_response(200, {**self._describe(name), "changed": changed})

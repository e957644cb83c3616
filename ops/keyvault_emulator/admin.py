"""A small client for the emulator's ``/_admin`` endpoint, used by tests and the dev stack.

    admin = EmulatorAdmin(read_env_file(data_dir / "emulator.env"))
    admin.configure(quota=10, retry_after_ratio=0.0)
    admin.set_key_enabled("kvsigner-1", False)
    admin.stats()["signs_ok"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests


class EmulatorAdminError(RuntimeError):
    """The admin endpoint refused a call; ``status`` and the error body's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"emulator admin call failed ({status}): {message}")
        self.status = status


class EmulatorAdmin:
    """Talks to one emulator, built from the variables of its ``emulator.env``.

    Needs ``KVSIGNER_EMULATOR_ADMIN_URL``, ``KVSIGNER_EMULATOR_ADMIN_TOKEN`` and
    ``KVSIGNER_VAULT_CA_FILE``. Every method raises ``EmulatorAdminError`` on an error reply
    and ``requests.RequestException`` when the emulator cannot be reached.
    """

    def __init__(self, env: Mapping[str, str], timeout: float = 10.0) -> None:
        self.url = env["KVSIGNER_EMULATOR_ADMIN_URL"].rstrip("/")
        self._timeout = timeout
        # Passed on every call: a Session-level ``verify`` loses to REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE from the environment, a per-request one does not.
        self._ca_file = env["KVSIGNER_VAULT_CA_FILE"]
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {env['KVSIGNER_EMULATOR_ADMIN_TOKEN']}"

    def __repr__(self) -> str:
        return f"EmulatorAdmin({self.url!r})"

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self._session.request(method, f"{self.url}/{path}", json=body,
                                         verify=self._ca_file, timeout=self._timeout)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200:
            message = response.text
            if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
                message = str(payload["error"].get("message", message))
            raise EmulatorAdminError(response.status_code, message)
        return payload

    def config(self) -> dict[str, Any]:
        """The current runtime configuration (see ``faults.FaultConfig``)."""
        return dict(self._call("GET", "config"))

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change some fields (latency_ms, quota, quota_window_seconds, retry_after_ratio,
        throttle_rate, fail_rate, fail_status, high_s, deterministic, auth_check, ...);
        returns the whole new configuration. Unknown fields or bad values raise."""
        return dict(self._call("POST", "config", fields))

    def keys(self) -> list[dict[str, Any]]:
        """Every key with its versions and their enabled flags."""
        return list(self._call("GET", "keys")["keys"])

    def set_key_enabled(self, name: str, enabled: bool,
                        version: str | None = None) -> dict[str, Any]:
        """Enable or disable all versions of ``name`` (or just ``version``)."""
        body: dict[str, Any] = {"enabled": enabled}
        if version is not None:
            body["version"] = version
        return dict(self._call("POST", f"keys/{name}/enabled", body))

    def stats(self) -> dict[str, int]:
        """The request counters (signs_ok, signs_throttled, signs_failed, requests, ...)."""
        return dict(self._call("GET", "stats"))

    def reset_stats(self) -> dict[str, int]:
        """Zero all counters; returns them."""
        return dict(self._call("POST", "stats/reset"))

    def close(self) -> None:
        self._session.close()

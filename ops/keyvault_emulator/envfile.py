"""``DIR/emulator.env``: the variables that point kvsigner (and tests) at the emulator.

Written atomically once the server is listening, so its existence means "ready". The format
is ``NAME=value`` per line (single-quoted only if a path needs it), so ``set -a; . emulator.env``
works in a shell and ``ops.processes.read_env_file`` parses it.
"""

from __future__ import annotations

from pathlib import Path

from .auth import Credentials
from .files import write_atomic

ENV_FILE = "emulator.env"
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/@%+=,")


def base_url(host: str, port: int) -> str:
    """``https://host:port``, with brackets around an IPv6 literal."""
    shown = f"[{host}]" if ":" in host else host
    return f"https://{shown}:{port}"


def env_values(url: str, ca_file: Path, creds: Credentials) -> dict[str, str]:
    """The variables, in the order they are written."""
    return {
        "KVSIGNER_VAULT_URL": url,
        "KVSIGNER_VAULT_CA_FILE": str(ca_file.resolve()),
        "KVSIGNER_VAULT_VERIFY_CHALLENGE_RESOURCE": "false",
        "KVSIGNER_AZURE_CREDENTIAL": "client_secret",
        "KVSIGNER_AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "AZURE_TENANT_ID": creds.tenant_id,
        "AZURE_CLIENT_ID": creds.client_id,
        "AZURE_CLIENT_SECRET": creds.client_secret,
        "AZURE_AUTHORITY_HOST": url,
        "KVSIGNER_EMULATOR_ADMIN_URL": f"{url}/_admin",
        "KVSIGNER_EMULATOR_ADMIN_TOKEN": creds.admin_token,
    }


def _shell_value(value: str) -> str:
    # Random ids and secrets never need quotes; a data directory path with spaces might.
    if _SAFE.issuperset(value) or "'" in value:
        return value
    return f"'{value}'"


def write_env_file(directory: Path, values: dict[str, str]) -> Path:
    """Write ``values`` to ``directory/emulator.env`` (mode 0600: it holds secrets)."""
    lines = ["# Key Vault emulator settings: `set -a; . emulator.env` configures kvsigner."]
    lines += [f"{name}={_shell_value(value)}" for name, value in values.items()]
    path = directory / ENV_FILE
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    return path

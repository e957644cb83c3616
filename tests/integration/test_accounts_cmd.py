"""`kvsigner accounts` as an operator runs it, against the session Key Vault emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ops.processes import ROOT, ManagedProcess
from worker.settings import Settings
from worker.signing.factory import build_signer

pytestmark = pytest.mark.integration


def env_of(proc: ManagedProcess) -> dict[str, str]:
    return dict(proc.extra["env"])  # type: ignore[call-overload]


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("KVSIGNER_", "AZURE_"))}
    return subprocess.run([sys.executable, "-m", "ops.cli", "accounts", *args],
                          env={**clean, **env}, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def test_accounts_command_json_and_table(emulator: ManagedProcess) -> None:
    env = env_of(emulator)
    with build_signer(Settings.from_env(env)) as signer:
        expected = [a.address for a in signer.accounts()]

    result = _run_cli(env, "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [item["address"] for item in listed] == expected
    assert {item["keyName"] for item in listed} == {"kvsigner-1", "kvsigner-2", "kvsigner-3"}
    assert all(item["enabled"] is True and item["keyVersion"] for item in listed)

    table = _run_cli(env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ADDRESS", "KEY", "VERSION", "ENABLED"]
    assert [line.split()[0] for line in lines[1:]] == expected
    assert all(line.split()[3] == "yes" for line in lines[1:])
    assert len({line.index(line.split()[1]) for line in lines}) == 1  # aligned columns


def test_accounts_command_errors(emulator: ManagedProcess) -> None:
    env = env_of(emulator)
    missing = _run_cli({k: v for k, v in env.items() if k != "KVSIGNER_VAULT_URL"})
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: vault_not_configured: ")

    wrong = _run_cli({**env, "AZURE_CLIENT_SECRET": "not-the-secret-42"}, "--json")
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: vault_auth_failed: ")
    assert "not-the-secret-42" not in wrong.stderr + wrong.stdout
    assert wrong.stdout == ""

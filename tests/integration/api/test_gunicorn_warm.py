"""The API under gunicorn with kvsigner's hooks: every worker process loads the vault's key
list as it starts, before any request reaches it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ops.processes import ManagedProcess, free_port, spawn, wait_until
from tests.integration.api.helpers import vault_env

pytestmark = pytest.mark.integration


def test_each_gunicorn_process_loads_the_vault_keys_at_start(
        redis_url: str, emulator: ManagedProcess, anvil: ManagedProcess,
        tmp_path: Path) -> None:
    env = {**os.environ, **vault_env(emulator), "KVSIGNER_REDIS_URL": redis_url,
           "KVSIGNER_NODE_URL": str(anvil.extra["url"]), "KVSIGNER_LOG_LEVEL": "INFO"}
    log = tmp_path / "gunicorn.log"
    argv = [sys.executable, "-m", "gunicorn", "api.wsgi:app", "-c", "python:api.gunicorn_conf",
            "--bind", f"127.0.0.1:{free_port()}", "--worker-class", "gthread",
            "--workers", "2", "--threads", "2"]
    proc = spawn("api-gunicorn", argv, log, env=env)
    try:
        # No request is sent: only the hooks can have loaded the keys.
        wait_until(lambda: log.read_text().count(" accounts (3 enabled)") >= 2, 60,
                   "both gunicorn processes to load the vault's keys", proc)
        assert "warm-up:" not in log.read_text()  # nothing failed to load
    finally:
        proc.stop()

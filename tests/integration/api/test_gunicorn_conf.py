"""The API under gunicorn with kvsigner's settings and hooks (``api.gunicorn_conf``): every
worker process loads the vault's key list as it starts, before any request reaches it, and
listens on a socket of its own, so a burst of new connections is spread over the
processes."""

from __future__ import annotations

import os
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest
import requests

from ops.processes import ManagedProcess, free_port, spawn, wait_until
from tests.integration.api.helpers import vault_env

pytestmark = pytest.mark.integration


@pytest.fixture
def gunicorn(redis_url: str, emulator: ManagedProcess, anvil: ManagedProcess,
             tmp_path: Path) -> Iterator[tuple[ManagedProcess, int, Path]]:
    """gunicorn with two worker processes: (process, port, log file)."""
    env = {**os.environ, **vault_env(emulator), "KVSIGNER_REDIS_URL": redis_url,
           "KVSIGNER_NODE_URL": str(anvil.extra["url"]), "KVSIGNER_LOG_LEVEL": "INFO"}
    log = tmp_path / "gunicorn.log"
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "api.wsgi:app", "-c", "python:api.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
            "--workers", "2", "--threads", "2"]
    proc = spawn("api-gunicorn", argv, log, env=env)
    try:
        yield proc, port, log
    finally:
        proc.stop()


def _workers(master_pid: int) -> list[psutil.Process]:
    return psutil.Process(master_pid).children()


def _sockets(pid: int, port: int, status: str) -> list[str]:
    """The kernel's ids (``socket:[inode]``) of ``pid``'s TCP sockets on local ``port``."""
    return [os.readlink(f"/proc/{pid}/fd/{conn.fd}")
            for conn in psutil.Process(pid).net_connections(kind="tcp")
            if conn.status == status and conn.laddr and conn.laddr.port == port]


def test_each_gunicorn_process_loads_the_vault_keys_at_start(
        gunicorn: tuple[ManagedProcess, int, Path]) -> None:
    proc, _port, log = gunicorn
    # No request is sent: only the hooks can have loaded the keys.
    wait_until(lambda: log.read_text().count(" accounts (3 enabled)") >= 2, 60,
               "both gunicorn processes to load the vault's keys", proc)
    assert "warm-up:" not in log.read_text()  # nothing failed to load


def test_each_gunicorn_process_listens_on_a_socket_of_its_own(
        gunicorn: tuple[ManagedProcess, int, Path]) -> None:
    proc, port, _log = gunicorn
    wait_until(lambda: len(_workers(proc.pid)) == 2 and all(
        _sockets(w.pid, port, psutil.CONN_LISTEN) for w in _workers(proc.pid)), 60,
        "both gunicorn processes to listen", proc)
    listening = {w.pid: _sockets(w.pid, port, psutil.CONN_LISTEN) for w in _workers(proc.pid)}
    assert all(len(ids) == 1 for ids in listening.values()), listening
    assert len({ids[0] for ids in listening.values()}) == 2, listening  # not one shared
    assert _sockets(proc.pid, port, psutil.CONN_LISTEN) == []  # the master holds none


def test_a_burst_of_connections_reaches_both_processes(
        gunicorn: tuple[ManagedProcess, int, Path]) -> None:
    proc, port, _log = gunicorn
    url = f"http://127.0.0.1:{port}/healthz"

    def healthy() -> bool:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(healthy, 60, "gunicorn to answer", proc)
    with ExitStack() as stack:
        # A client's pool opening at once: 16 connections, held open. The kernel picks a
        # process for each from its addresses, so all 16 on one process would be a 1 in
        # 32768 chance; with one shared socket, whichever process runs first takes them.
        for _ in range(16):
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))

        def held() -> Counter[int]:
            return Counter({w.pid: len(_sockets(w.pid, port, psutil.CONN_ESTABLISHED))
                            for w in _workers(proc.pid)})

        wait_until(lambda: sum(held().values()) == 16, 30, "all 16 connections accepted",
                   proc)
        assert len(+held()) == 2, held()

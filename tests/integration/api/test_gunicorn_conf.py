"""The API under gunicorn with kvsigner's settings and hooks (``api.gunicorn_conf``): every
worker process loads the vault's key list as it starts, before any request reaches it, and
listens on a TCP socket of its own, so a burst of new connections is spread over the
processes; a Unix socket stays one socket that every process serves."""

from __future__ import annotations

import os
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import psutil
import pytest
import requests

from ops.processes import ManagedProcess, free_port, spawn, wait_until
from tests.integration.api.helpers import vault_env

pytestmark = pytest.mark.integration


@pytest.fixture
def start(redis_url: str, emulator: ManagedProcess, anvil: ManagedProcess,
          tmp_path: Path) -> Iterator[Callable[[str], tuple[ManagedProcess, Path]]]:
    """``start(bind)``: gunicorn with two worker processes, (process, log file)."""
    env = {**os.environ, **vault_env(emulator), "KVSIGNER_REDIS_URL": redis_url,
           "KVSIGNER_NODE_URL": str(anvil.extra["url"]), "KVSIGNER_LOG_LEVEL": "INFO"}
    started: list[ManagedProcess] = []

    def run(bind: str) -> tuple[ManagedProcess, Path]:
        log = tmp_path / "gunicorn.log"
        argv = [sys.executable, "-m", "gunicorn", "api.wsgi:app",
                "-c", "python:api.gunicorn_conf", "--bind", bind,
                "--worker-class", "gthread", "--workers", "2", "--threads", "2"]
        started.append(spawn("api-gunicorn", argv, log, env=env))
        return started[-1], log

    try:
        yield run
    finally:
        for proc in started:
            proc.stop()


@pytest.fixture
def gunicorn(start: Callable[[str], tuple[ManagedProcess, Path]]
             ) -> tuple[ManagedProcess, int, Path]:
    """gunicorn on a TCP port: (process, port, log file)."""
    port = free_port()
    proc, log = start(f"127.0.0.1:{port}")
    return proc, port, log


def _workers(master_pid: int) -> list[psutil.Process]:
    return psutil.Process(master_pid).children()


def _sockets(pid: int, port: int, status: str) -> list[str]:
    """The kernel's ids (``socket:[inode]``) of ``pid``'s TCP sockets on local ``port``."""
    ids = []
    for conn in psutil.Process(pid).net_connections(kind="tcp"):
        if conn.status == status and conn.laddr and conn.laddr.port == port:
            with suppress(FileNotFoundError):  # closed since it was listed
                ids.append(os.readlink(f"/proc/{pid}/fd/{conn.fd}"))
    return ids


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


def test_a_unix_socket_is_shared_by_every_process(
        start: Callable[[str], tuple[ManagedProcess, Path]], tmp_path: Path) -> None:
    path = str(tmp_path / "api.sock")
    proc, log = start(f"unix:{path}")

    def listeners() -> dict[int, list[str]]:
        return {p.pid: [os.readlink(f"/proc/{p.pid}/fd/{conn.fd}")
                        for conn in p.net_connections(kind="unix")
                        if conn.laddr == path and conn.status == psutil.CONN_NONE]
                for p in [psutil.Process(proc.pid), *_workers(proc.pid)]}

    wait_until(lambda: len(_workers(proc.pid)) == 2
               and "Booting worker" in log.read_text()
               and log.read_text().count(" accounts (3 enabled)") >= 2, 60,
               "both gunicorn processes to start", proc)
    held = listeners()
    # One socket, bound by the master and inherited by both workers (a socket per worker
    # cannot be had: Linux refuses SO_REUSEPORT on a Unix socket, and no worker started).
    assert len(held) == 3 and all(len(ids) == 1 for ids in held.values()), held
    assert len({ids[0] for ids in held.values()}) == 1, held
    for _ in range(4):
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(5)
            client.connect(path)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 200"), "no answer on the socket"

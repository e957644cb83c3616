"""``api.gunicorn_conf``: sockets per worker process only where they work."""

from __future__ import annotations

import logging
import os
import sys
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from api import gunicorn_conf
from api.gunicorn_conf import _sockets_per_process_work, _warm, on_reload, on_starting


def _server(*binds: str) -> SimpleNamespace:
    cfg = Config()
    cfg.set("bind", list(binds))
    cfg.set("reuse_port", gunicorn_conf.reuse_port)
    return SimpleNamespace(cfg=cfg, log=logging.getLogger("test.gunicorn"))


def test_tcp_addresses_get_a_socket_per_process() -> None:
    assert gunicorn_conf.reuse_port is True
    server = _server("127.0.0.1:8080", "[::1]:8081", "0.0.0.0:8082")
    on_starting(server)
    assert server.cfg.reuse_port is True


@pytest.mark.parametrize("binds", [("unix:/run/kvsigner.sock",), ("fd://3",),
                                   ("127.0.0.1:8080", "unix:/run/kvsigner.sock")])
def test_unix_and_inherited_sockets_stay_shared(binds: tuple[str, ...]) -> None:
    server = _server(*binds)
    on_starting(server)
    assert server.cfg.reuse_port is False
    reloaded = _server(*binds)  # a reload reads the module (reuse_port = True) again
    on_reload(reloaded)
    assert reloaded.cfg.reuse_port is False


def test_systemd_socket_activation_keeps_its_socket() -> None:
    mine = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}
    assert _sockets_per_process_work([("127.0.0.1", 8080)], mine) is False
    # Meant for another process: not ours to use.
    other = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid() + 1)}
    assert _sockets_per_process_work([("127.0.0.1", 8080)], other) is True
    assert _sockets_per_process_work([("127.0.0.1", 8080)], {}) is True


def test_the_warm_up_survives_a_celery_app_that_does_not_load(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    warmed = []
    monkeypatch.setitem(sys.modules, "worker.celery_app", None)  # importing it now fails
    with caplog.at_level(logging.WARNING, logger="kvsigner.api"):
        _warm(SimpleNamespace(warm=lambda: warmed.append(True)))  # type: ignore[arg-type]
    assert warmed == [True]
    assert "warm-up: the Celery app not loaded (ModuleNotFoundError)" in caplog.text

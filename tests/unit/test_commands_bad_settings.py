"""Commands that run services name a bad setting and stop (exit 1, ``invalid_settings``)
before anything starts, instead of a traceback from deep inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import devstack, worker_cmd


def test_kvsigner_worker(monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KVSIGNER_WORKER_NICE", "20")
    assert worker_cmd.main(["--name", "test@host"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid_settings: KVSIGNER_WORKER_NICE='20' is not valid")
    assert "Traceback" not in err


def test_kvsigner_dev_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KVSIGNER_WORKER_CONCURRENCY", "many")
    data_dir = tmp_path / "dev"
    assert devstack.main(["--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kvsigner dev: invalid_settings: KVSIGNER_WORKER_CONCURRENCY=")
    assert not data_dir.exists()  # no service was started, nothing was written

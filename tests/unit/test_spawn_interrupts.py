"""An interrupt that arrives while a service is being started never loses the process: it
is registered for clean-up first, and the interrupt acts right after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops import processes
from ops.processes import ManagedProcess, spawn

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def interrupting_popen(signum: int) -> Any:
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> Any:
        child = real(*args, **kwargs)
        os.kill(os.getpid(), signum)  # delivered while spawn is still running
        return child

    return popen


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_a_spawn_acts_once_the_process_is_registered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int) -> None:
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # as ``kvsigner bench`` and ``kvsigner dev`` handle both

    previous = signal.signal(signum, interrupt)
    monkeypatch.setattr(processes.subprocess, "Popen", interrupting_popen(signum))
    registry: list[ManagedProcess] = []
    try:
        with pytest.raises(KeyboardInterrupt):
            spawn("sleeper", SLEEPER, tmp_path / "sleeper.log", register=registry)
        assert len(registry) == 1 and registry[0].alive()
        assert signal.getsignal(signum) is interrupt  # the handlers are back in place
    finally:
        signal.signal(signum, previous)
        for proc in registry:
            proc.stop()
    assert not registry[0].alive()

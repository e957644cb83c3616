"""``kvsigner worker``'s niceness (``KVSIGNER_WORKER_NICE``): added to the process, and to its
session's share of the CPU only when the session is the worker's own."""

from __future__ import annotations

from typing import Any

import pytest

from ops import worker_cmd


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"nice": [], "written": []}

    class FakePath:
        def __init__(self, path: str) -> None:
            self.path = path

        def write_text(self, text: str) -> None:
            seen["written"].append((self.path, text))

    def nice(increment: int) -> int:
        seen["nice"].append(increment)
        return increment

    monkeypatch.setattr(worker_cmd.os, "nice", nice)
    monkeypatch.setattr(worker_cmd, "Path", FakePath)
    return seen


def test_zero_changes_nothing(calls: dict[str, list[Any]],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    worker_cmd._yield_cpu(0)
    assert calls == {"nice": [], "written": []}


def test_a_session_leader_lowers_its_session_too(calls: dict[str, list[Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    worker_cmd._yield_cpu(10)
    assert calls == {"nice": [10], "written": [("/proc/self/autogroup", "10\n")]}


def test_a_shared_session_is_left_alone(calls: dict[str, list[Any]],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A shell's job: lowering the session would lower the shell and everything it runs.
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid() + 1)
    worker_cmd._yield_cpu(10)
    assert calls == {"nice": [10], "written": []}


def test_without_autogroup_the_niceness_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[int] = []

    class Missing:
        def __init__(self, path: str) -> None:
            pass

        def write_text(self, text: str) -> None:
            raise FileNotFoundError("no /proc/self/autogroup")

    monkeypatch.setattr(worker_cmd.os, "nice", lambda n: applied.append(n) or n)
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    monkeypatch.setattr(worker_cmd, "Path", Missing)
    worker_cmd._yield_cpu(5)
    assert applied == [5]

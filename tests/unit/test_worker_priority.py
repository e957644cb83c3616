"""``kvsigner worker``'s niceness (``KVSIGNER_WORKER_NICE``): added to the process, and to its
session's share of the CPU only when the session is the worker's own."""

from __future__ import annotations

from typing import Any

import pytest

from ops import processes, worker_cmd


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"nice": [], "written": [], "refused": [], "slept": []}

    class FakePath:
        refusals = 0  # EAGAIN answers before a write succeeds

        def __init__(self, path: str) -> None:
            self.path = path

        def write_text(self, text: str) -> None:
            if FakePath.refusals:
                FakePath.refusals -= 1
                seen["refused"].append(text)
                raise BlockingIOError(11, "Resource temporarily unavailable")
            seen["written"].append((self.path, text))

    def nice(increment: int) -> int:
        seen["nice"].append(increment)
        return increment

    monkeypatch.setattr(worker_cmd.os, "nice", nice)
    monkeypatch.setattr(processes, "Path", FakePath)
    monkeypatch.setattr(processes.time, "sleep", seen["slept"].append)
    seen["path"] = [FakePath]
    return seen


def test_zero_changes_nothing(calls: dict[str, list[Any]],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    worker_cmd._yield_cpu(0)
    assert calls["nice"] == calls["written"] == []


def test_a_session_leader_lowers_its_session_too(calls: dict[str, list[Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    worker_cmd._yield_cpu(10)
    assert calls["nice"] == [10]
    assert calls["written"] == [("/proc/self/autogroup", "10\n")]


def test_a_shared_session_is_left_alone(calls: dict[str, list[Any]],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # A shell's job: lowering the session would lower the shell and everything it runs.
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid() + 1)
    worker_cmd._yield_cpu(10)
    assert calls["nice"] == [10]
    assert calls["written"] == []


def test_a_write_refused_as_too_soon_is_tried_again(calls: dict[str, list[Any]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Unprivileged, the kernel takes one autogroup write per 100 ms machine-wide: the dev
    # stack's workers and beat start together.
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    calls["path"][0].refusals = 3
    worker_cmd._yield_cpu(10)
    assert len(calls["refused"]) == 3 and len(calls["slept"]) == 3
    assert all(seconds > 0.1 for seconds in calls["slept"])
    assert calls["written"] == [("/proc/self/autogroup", "10\n")]


def test_a_kernel_that_keeps_refusing_is_given_up_on(calls: dict[str, list[Any]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    calls["path"][0].refusals = 1000
    worker_cmd._yield_cpu(10)
    assert len(calls["refused"]) == processes.AUTOGROUP_ATTEMPTS
    assert calls["nice"] == [10] and calls["written"] == []


def test_without_autogroup_the_niceness_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[int] = []

    class Missing:
        def __init__(self, path: str) -> None:
            pass

        def write_text(self, text: str) -> None:
            raise FileNotFoundError("no /proc/self/autogroup")

    monkeypatch.setattr(worker_cmd.os, "nice", lambda n: applied.append(n) or n)
    monkeypatch.setattr(worker_cmd.os, "getsid", lambda _pid: worker_cmd.os.getpid())
    monkeypatch.setattr(processes, "Path", Missing)
    worker_cmd._yield_cpu(5)
    assert applied == [5]



def test_another_process_s_session_is_named_by_its_pid(calls: dict[str, list[Any]]) -> None:
    assert processes.lower_session(10, 4242)
    assert calls["written"] == [("/proc/4242/autogroup", "10\n")]

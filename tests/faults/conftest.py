"""Fixtures of the fault suite: one fresh stack per scenario, torn down even on failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.report import LINES
from tests.faults.stack import FaultStack


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: fault-injection scenarios on a real stack (slow; run in CI)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LINES:
        terminalreporter.section("fault scenarios")
        for line in LINES:
            terminalreporter.write_line(line)


@pytest.fixture
def fault_stack(tmp_path: Path) -> Iterator[Callable[..., FaultStack]]:
    """A factory: ``fault_stack(name, **options)`` starts a ``FaultStack``; every stack it
    started is stopped when the test ends."""
    started: list[FaultStack] = []

    def make(name: str, **options: Any) -> FaultStack:
        stack = FaultStack(tmp_path / name, **options)
        started.append(stack)
        stack.start()
        return stack

    yield make
    for stack in reversed(started):
        stack.stop()

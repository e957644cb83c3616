"""The common end of every scenario: wait (bounded), check the invariants, emit the line."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.faults.invariants import Verdict, check, summary, wait_settled, wait_terminal
from tests.faults.report import emit
from tests.faults.stack import FaultStack, Posted


def finish(fs: FaultStack, name: str, posted: Posted, start: dict[str, int], t0: float, *,
           outside: list[str] | None = None, terminal_timeout: float = 120.0,
           settle_timeout: float = 45.0,
           extra: str | Callable[[Verdict], str] = "",
           then: Callable[[Verdict], None] | None = None) -> Verdict:
    """Wait for every accepted transaction to finish and the stack to settle, check the
    invariants, emit the summary line (always, also when waiting timed out), assert that
    nothing was violated, and run the scenario's own assertions ``then(verdict)``. Returns
    the verdict."""
    problems: list[str] = []
    try:
        wait_terminal(fs, posted.ids, terminal_timeout)
        wait_settled(fs, list(start), settle_timeout)
    except AssertionError as exc:
        problems.append(str(exc))
    verdict = check(fs, start, posted.ids, outside)
    verdict.violations[:0] = problems
    try:
        stats = fs.admin.stats()
    except Exception:  # the line must still be written
        stats = {}
    note = extra(verdict) if callable(extra) else extra
    emit(summary(name, posted, verdict, stats, time.monotonic() - t0, note))
    assert not verdict.violations, (
        f"{name}: {len(verdict.violations)} violations (logs: {fs.logs()}):\n  "
        + "\n  ".join(verdict.violations[:30]))
    if then is not None:
        then(verdict)
    return verdict

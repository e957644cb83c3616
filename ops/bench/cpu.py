"""CPU seconds used by the stack's processes, per role, read from Linux's ``/proc``.

Throughput on a shared machine moves with whatever else runs on it; CPU time per transaction
does not, so the report carries both. A role's time is that of its process and of every
descendant (gunicorn's worker processes), threads included. Elsewhere than Linux, or for a
stack the benchmark did not start, ``CpuMeter.sample`` returns an empty mapping.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

_PROC = Path("/proc")
# Process names of ops.devstack / ops.bench.target -> the role they are reported under.
_ROLES = {"worker": "workers", "keyvault": "emulator", "api": "api", "beat": "beat",
          "redis": "redis", "anvil": "anvil", "bench": "bench"}


def role_of(name: str) -> str:
    """``worker-w2`` -> ``workers``, ``api-gunicorn`` -> ``api``, ``keyvault-emulator`` ->
    ``emulator``; unknown names are their own role."""
    return _ROLES.get(name.split("-")[0], name)


def _processes() -> dict[int, tuple[int, float]]:
    """Every visible process: pid -> (parent pid, user + system CPU seconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, float]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        # The command name may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


class CpuMeter:
    """Samples the CPU time of named root processes and their descendants."""

    def __init__(self, roots: Mapping[str, int]) -> None:
        self.roots = dict(roots)

    def sample(self) -> dict[str, float]:
        """Role -> CPU seconds so far (empty without ``/proc``)."""
        if not self.roots or not _PROC.is_dir():
            return {}
        procs = _processes()
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _) in procs.items():
            children[ppid].append(pid)
        roots = set(self.roots.values())
        totals: dict[str, float] = defaultdict(float)
        for name, root in self.roots.items():
            stack = [root]
            while stack:
                pid = stack.pop()
                if pid in procs:
                    totals[role_of(name)] += procs[pid][1]
                # A descendant that is a root itself is counted under its own name (the
                # stack's processes are all children of the benchmark's own process).
                stack.extend(c for c in children.get(pid, []) if c not in roots)
        return dict(totals)


def per_tx_ms(before: Mapping[str, float], after: Mapping[str, float],
              txs: int) -> dict[str, float]:
    """Milliseconds of CPU per transaction for each role between two samples."""
    if txs <= 0:
        return {}
    return {role: round((after[role] - before.get(role, 0.0)) * 1000.0 / txs, 2)
            for role in sorted(after)}

"""One readable line per scenario, shown in the normal pytest output (no ``-s`` needed).

Each scenario calls ``emit(line)``: the line is printed (captured output, shown on failure)
and kept for ``pytest_terminal_summary`` in ``conftest.py``, which writes every line in a
"fault scenarios" section at the end of the run, passed or failed.
"""

from __future__ import annotations

LINES: list[str] = []


def emit(line: str) -> None:
    print(line, flush=True)
    LINES.append(line)

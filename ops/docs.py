"""Generates the README's settings and error-code tables from the code that defines them.

``python -m ops.docs`` rewrites the README sections between the ``<!-- BEGIN x -->`` and
``<!-- END x -->`` markers; a test fails when the README and the code disagree.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from worker.domain.errors import ERROR_CODES
from worker.setting_values import Secret
from worker.settings import FIELDS

README = Path(__file__).resolve().parent.parent / "README.md"


def _default(value: object) -> str:
    if isinstance(value, Secret) or value in (None, ""):
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for f in FIELDS:
        meaning = f.doc + (" Secret: never logged." if f.secret else "")
        rows.append(f"| `{f.env}` | {_default(f.default)} | {meaning} |")
    return "\n".join(rows)


def errors_table() -> str:
    rows = ["| code | HTTP | retried | meaning |", "| --- | --- | --- | --- |"]
    for code, spec in ERROR_CODES.items():
        rows.append(f"| `{code}` | {spec.http_status} | {'yes' if spec.retryable else 'no'} "
                    f"| {spec.meaning} |")
    return "\n".join(rows)


SECTIONS = {"settings": settings_table, "errors": errors_table}


def _replacement(body: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m.group(1) + body + "\n" + m.group(2)


def render(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, build in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no {name} markers")
        text = pattern.sub(_replacement(build()), text)
    return text


def main() -> int:
    text = README.read_text()
    new = render(text)
    if new != text:
        README.write_text(new)
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

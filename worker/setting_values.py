"""How a setting's text becomes its value: the parsers ``worker.settings.FIELDS`` names, and
``Secret``, the wrapper that keeps a secret setting out of every repr, log line and error.

A parser takes the variable's raw text and returns the value, or raises ``ValueError`` with
a short reason (``Settings.from_env`` adds the variable's name and, unless it is secret, the
text).
"""

from __future__ import annotations

from collections.abc import Callable


class Secret:
    """A string that hides itself in ``repr``/``str``; call ``reveal()`` where it is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


def boolean(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def optional_str(raw: str) -> str | None:
    return raw or None


def optional_int(raw: str) -> int | None:
    return int(raw) if raw.strip() else None


def seconds_list(raw: str) -> str:
    """Comma-separated positive seconds, kept as text (worker.webhooks.config parses it)."""
    values = [float(p) for p in raw.split(",") if p.strip()]
    if not values or any(not 0 < v < float("inf") for v in values):
        raise ValueError("expected comma-separated positive seconds")
    return raw


def niceness(raw: str) -> int:
    """A process's niceness as Unix knows it: 0 (as started) to 19 (yields the most)."""
    value = int(raw)
    if not 0 <= value <= 19:
        raise ValueError("expected 0 to 19")
    return value


def choice(options: tuple[str, ...], upper: bool = False) -> Callable[[str], str]:
    """A parser taking one of ``options``, compared in lower case (upper with ``upper``)."""
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return value
    return parse

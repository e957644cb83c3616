"""Checks shared by every listing endpoint's query string.

Unknown and repeated parameters are refused (a misspelt filter such as ``sender=`` must not
silently list everything), each given value must pass its check, and ``limit`` is bounded.
Every refusal is ``ValidationError('invalid_field')`` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from werkzeug.datastructures import MultiDict

from worker.domain.errors import ValidationError

Check = tuple[Callable[[str], object], str]  # (predicate, what a valid value is)


def check_params(args: MultiDict[str, str], allowed: frozenset[str],
                 checks: Mapping[str, Check] | None = None) -> None:
    """Refuse unknown or repeated parameters and values that fail their ``checks``."""
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValidationError("invalid_field", f"unknown query parameter(s): "
                              f"{', '.join(unknown)}")
    for name in allowed:
        if len(args.getlist(name)) > 1:
            raise ValidationError("invalid_field", f"`{name}` is given more than once")
    for name, (ok, what) in (checks or {}).items():
        value = args.get(name)
        if value is not None and not ok(value):
            raise ValidationError("invalid_field", f"`{name}` must be {what}")


def parse_limit(args: MultiDict[str, str], default: int, maximum: int) -> int:
    """``limit`` as an integer in 1..``maximum`` (``default`` when absent)."""
    raw = args.get("limit")
    if raw is None:
        return default
    # The length bound comes first: int() of thousands of digits is slow or refused.
    if not (len(raw) <= len(str(maximum)) and raw.isascii() and raw.isdigit()
            and 1 <= int(raw) <= maximum):
        raise ValidationError("invalid_field", f"`limit` must be an integer from 1 to "
                              f"{maximum}")
    return int(raw)

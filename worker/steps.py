"""What a pipeline call asks its caller (a Celery task) to schedule next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Step:
    """What comes next, after ``delay`` seconds: nothing (``done``); ``process`` again;
    ``track`` (follow the record in receipt rounds); or ``inspect`` (one look at this record
    alone, which may re-sign or rebroadcast it)."""

    kind: Literal["done", "process", "track", "inspect"]
    delay: float = 0.0
    reason: str = ""


DONE = Step("done")

"""What a pipeline call asks its caller (a Celery task) to schedule next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Step:
    """Nothing more (``done``), run ``process`` again, or ``track``, after ``delay`` s."""

    kind: Literal["done", "process", "track"]
    delay: float = 0.0
    reason: str = ""


DONE = Step("done")

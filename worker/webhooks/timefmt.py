"""Timestamps as the API shows them: ISO 8601 UTC with milliseconds, like transaction views."""

from __future__ import annotations

import time


def iso(ms: int) -> str:
    secs, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem:03d}Z"

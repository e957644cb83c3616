"""Atomic file writes for everything the emulator keeps in its data directory.

A reader (another process sourcing ``emulator.env``, or the emulator itself after a crash)
must never see a half-written file, so every write goes to a temporary file in the same
directory, is flushed to disk and then renamed over the target (``os.replace`` is atomic on
POSIX when both names are on one file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` in one step; the file gets permission bits ``mode``.

    Secrets (private keys, credentials) live in these files, hence the private default.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        # Leave no stray temporary file behind when the write or rename fails.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, value: Any, mode: int = 0o600) -> None:
    """Serialise ``value`` as indented JSON and write it with ``write_atomic``."""
    write_atomic(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode(), mode)


def read_json(path: Path) -> Any:
    """Parse the JSON file at ``path``; raises ``FileNotFoundError`` or ``ValueError``."""
    return json.loads(path.read_text())

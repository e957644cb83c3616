"""``python -m ops.keyvault_emulator``: the same as ``kvsigner keyvault-emulator``."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

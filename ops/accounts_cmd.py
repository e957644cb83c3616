"""``kvsigner accounts [--json]``: list the signing accounts of the configured vault.

Reads the same environment as the worker (``Settings.from_env()``), discovers the vault's
secp256k1 keys and prints one line per key version: address, key name, version, enabled.
Disabled keys are shown too, so an operator sees why an address cannot sign. Errors are
printed as ``error: <code>: <message>`` on stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import TextIO

from worker.domain.errors import KvsignerError
from worker.settings import Settings, SettingsError
from worker.signing.base import VaultAccount
from worker.signing.factory import build_signer

HEADERS = ("ADDRESS", "KEY", "VERSION", "ENABLED")


def format_table(accounts: Sequence[VaultAccount]) -> str:
    """Accounts as left-aligned columns under ``HEADERS``."""
    rows = [HEADERS] + [
        (a.address, a.key_name, a.key_version, "yes" if a.enabled else "no") for a in accounts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def format_json(accounts: Sequence[VaultAccount]) -> str:
    """Accounts as a JSON list of ``VaultAccount.to_dict()`` objects."""
    return json.dumps([a.to_dict() for a in accounts], indent=2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvsigner accounts",
        description="List the secp256k1 keys of the configured Azure Key Vault as Ethereum "
                    "accounts (KVSIGNER_VAULT_URL and the Azure credential variables).",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--verbose", action="store_true",
                        help="also show the Azure SDK's own warnings")
    return parser


@contextlib.contextmanager
def _quiet_azure(quiet: bool) -> Iterator[None]:
    """Mute the Azure SDK's log lines (azure-identity logs every failed token request as a
    warning, repeating what our one error line says); restore the level afterwards."""
    logger = logging.getLogger("azure")
    previous = logger.level
    if quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _error(code: str, message: str, stderr: TextIO) -> int:
    print(f"error: {code}: {message}", file=stderr)
    return 1


def main(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 error, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return _error("invalid_settings", str(exc), err)
    try:
        with _quiet_azure(not args.verbose), build_signer(settings) as signer:
            accounts = signer.all_accounts()
    except KvsignerError as exc:
        return _error(exc.code, exc.message, err)
    print(format_json(accounts) if args.json else format_table(accounts), file=out)
    if not accounts and not args.json:
        print(f"no secp256k1 keys found in {settings.vault_url}", file=err)
    return 0

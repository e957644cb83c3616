"""``kvsigner audit export``: the audit log of vault signatures as JSON lines, oldest first.

Reads the Redis of ``KVSIGNER_REDIS_URL`` and prints one JSON object per entry, in the
form ``GET /audit`` returns (see ``worker.audit``), for archiving or for a SIEM. Filters:
``--since``/``--until`` (inclusive; RFC 3339 with a time zone, or milliseconds since the
epoch), ``--address``, ``--key`` (vault key name), ``--tx-id``, ``--status``,
``--purpose``. Errors go to stderr as ``error: <code>: <message>`` with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import TextIO

import redis

from worker.audit import AuditLog
from worker.audit.query import STATUSES, AuditFilter, oldest_first, parse_time
from worker.domain.errors import KvsignerError
from worker.domain.requests import parse_address
from worker.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kvsigner audit",
                                     description="Read the audit log of vault signatures.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="print matching entries as JSON lines, "
                                                "oldest first")
    export.add_argument("--since", help="from this time (RFC 3339 or ms), inclusive")
    export.add_argument("--until", help="up to this time (RFC 3339 or ms), inclusive")
    export.add_argument("--address", help="only this account")
    export.add_argument("--key", help="only this vault key name")
    export.add_argument("--tx-id", help="only this transaction record")
    export.add_argument("--status", choices=STATUSES, help="only this entry status")
    export.add_argument("--purpose", help="only this purpose (transaction, personal_sign...)")
    return parser


def build_filter(args: argparse.Namespace) -> AuditFilter:
    """Raises ``ValidationError`` for a malformed time or address."""
    since = None if args.since is None else parse_time(args.since, "--since")
    until = None if args.until is None else parse_time(args.until, "--until")
    address = None if args.address is None else parse_address(args.address, "--address")
    return AuditFilter(address=address, key=args.key, tx_id=args.tx_id, status=args.status,
                       purpose=args.purpose, since=since, until=until)


def main(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None,
         environ: Mapping[str, str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 error, 2 usage)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        print(f"error: invalid_settings: {exc}", file=err)
        return 1
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10,
                                  socket_connect_timeout=5)
    try:
        flt = build_filter(args)
        for entry in oldest_first(AuditLog(client), flt):
            out.write(json.dumps(entry, separators=(",", ":")) + "\n")
        out.flush()
    except KvsignerError as exc:
        print(f"error: {exc.code}: {exc.message}", file=err)
        return 1
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        client.close()
    return 0

"""``kvsigner apikey create|list|revoke``: manage the API's keys in KVSIGNER_REDIS_URL.

``create NAME [--sender ADDR ...] [--read-only]`` prints the new key alone on stdout (so
``KEY=$(kvsigner apikey create ci)`` works) and a reminder on stderr: it is shown this once
and stored only as a hash. ``list [--json]`` shows names, ids, creation times, senders and
the read-only flag, never a secret. ``revoke NAME`` deletes a key; requests carrying it fail
from then on. Exit status: 0 done, 1 refused (taken name, unknown name, bad address or
settings), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys

import redis

from worker.auth.keys import ApiKey, ApiKeyError, ApiKeyStore
from worker.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kvsigner apikey", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("name", help="unique name: letters, digits, '.', '_', '-'")
    create.add_argument("--sender", action="append", default=[], metavar="ADDR",
                        help="only let the key act for this account (repeat for more)")
    create.add_argument("--read-only", action="store_true",
                        help="only let the key read (GET, JSON-RPC read methods)")
    listing = commands.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    revoke = commands.add_parser("revoke", help="revoke the key with this name")
    revoke.add_argument("name")
    return parser


def _describe(key: ApiKey) -> str:
    facts = key.to_public()
    scope = "read-only" if key.read_only else "read-write"
    senders = ", ".join(key.senders) if key.senders else "any sender"
    return f"{key.name:<24} {key.key_id}  {facts['created']}  {scope:<10}  {senders}"


def run(store: ApiKeyStore, args: argparse.Namespace) -> int:
    """Carry out the parsed command against ``store``; returns the exit status."""
    if args.command == "create":
        try:
            key, plaintext = store.create(args.name, args.sender, args.read_only)
        except ApiKeyError as exc:
            print(f"kvsigner apikey: {exc}", file=sys.stderr)
            return 1
        print(plaintext.reveal(), flush=True)
        print(f"created API key {key.name!r} ({key.key_id}); it is shown only now, so store "
              "it safely. Send it as `Authorization: Bearer <key>`.", file=sys.stderr)
        return 0
    if args.command == "list":
        keys = store.list()
        if args.json:
            print(json.dumps([k.to_public() for k in keys], indent=2))
        elif not keys:
            print("no API keys; create one with `kvsigner apikey create NAME`")
        else:
            print("\n".join(_describe(k) for k in keys))
        return 0
    if store.revoke(args.name):
        print(f"revoked API key {args.name!r}")
        return 0
    print(f"kvsigner apikey: no API key named {args.name!r}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"kvsigner apikey: invalid_settings: {exc}", file=sys.stderr)
        return 1
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10,
                                  socket_connect_timeout=5)
    try:
        return run(ApiKeyStore(client), args)
    except redis.RedisError as exc:
        # The class name only: a connection error's text can quote the URL's password.
        print(f"kvsigner apikey: Redis at KVSIGNER_REDIS_URL failed ({type(exc).__name__})",
              file=sys.stderr)
        return 1
    finally:
        client.close()

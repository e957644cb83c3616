"""The ``kvsigner`` command line: one subcommand per operator task.

Each subcommand's module is imported only when it runs, so ``kvsigner --help`` stays fast
and a missing optional service never breaks an unrelated command.
"""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module with ``main(argv) -> int``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "accounts": ("ops.accounts_cmd", "List the signing accounts of the configured vault."),
    "keyvault-emulator": ("ops.keyvault_emulator.cli", "Run the local Key Vault emulator."),
    "dev": ("ops.devstack", "Run the whole stack locally (Redis, anvil, emulator, API, workers)."),
    "api": ("ops.api_cmd", "Serve the HTTP API (development server; use gunicorn in production)."),
    "worker": ("ops.worker_cmd", "Run a Celery worker."),
    "audit": ("ops.audit_cmd", "Export the audit log of vault signatures as JSON lines."),
    "apikey": ("ops.apikey_cmd", "Create, list and revoke API keys."),
    "bench": ("ops.bench.cli", "Measure pipeline throughput against a direct signing loop."),
}


def _usage() -> str:
    lines = ["usage: kvsigner <command> [options]", "", "commands:"]
    lines += [f"  {name:<20} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `kvsigner <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"kvsigner: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

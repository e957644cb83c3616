"""Give every vault account ether on a development node (anvil's ``anvil_setBalance``).

``python -m ops.bench.fund`` is the compose dev profile's one-shot ``fund`` service: it reads
the usual settings (``KVSIGNER_NODE_URL`` and the vault variables), waits until the node and
the vault answer, sets each account's balance and exits 0 (1 after ``--wait`` seconds without
success). Only for development chains: real nodes refuse ``anvil_setBalance``.
"""

from __future__ import annotations

import argparse
import sys
import time

from worker.chain.node import NodeClient
from worker.domain.errors import KvsignerError
from worker.settings import Settings
from worker.signing.factory import build_signer

DEFAULT_BALANCE_WEI = 10_000 * 10**18


def fund_accounts(settings: Settings, balance_wei: int) -> list[str]:
    """Set every enabled vault account's balance; returns the addresses. Raises
    ``KvsignerError`` (vault or node unreachable, or a node without ``anvil_setBalance``)."""
    signer = build_signer(settings)
    try:
        addresses = [str(account.address) for account in signer.accounts()]
    finally:
        signer.close()
    node = NodeClient(settings.node_url, settings.node_timeout)
    for address in addresses:
        node.call("anvil_setBalance", [address, hex(balance_wei)])
    return addresses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench.fund", description=__doc__)
    parser.add_argument("--balance-wei", type=int, default=DEFAULT_BALANCE_WEI)
    parser.add_argument("--wait", type=float, default=120.0,
                        help="seconds to keep trying while the node or vault is not up")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    deadline = time.monotonic() + args.wait
    while True:
        try:
            addresses = fund_accounts(settings, args.balance_wei)
        except KvsignerError as exc:
            if time.monotonic() >= deadline:
                print(f"fund: giving up: {exc.code}: {exc.message}", file=sys.stderr)
                return 1
            time.sleep(2.0)
            continue
        for address in addresses:
            print(f"fund: {address} now holds {args.balance_wei} wei", flush=True)
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

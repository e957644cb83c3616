"""Keep a development anvil mining what it holds.

anvil (1.7.1, the version package.json installs) can hold a transaction that is next in its
sender's nonce order without ever mining it:

- Stranded: a transaction for nonce n+1 is checked against the chain while n is still
  unmined, so anvil files it as waiting for n; if n is mined and pruned before n+1 enters the
  pool, nothing releases n+1 and every later nonce of that sender waits behind it. A race of
  concurrent sends whose nonces arrive slightly out of order, which is how kvsigner's workers
  send: it showed in about 1 benchmark run of 30.
- Ready but unmined: in automine mode the miner can stop taking ready transactions until
  another one arrives.

The pipeline copes as on any node (a transaction not mined in ``KVSIGNER_STUCK_SECONDS`` is
re-signed with higher fees, and the replacement is checked afresh), but on the dev stack and
in the benchmark it shows as a sender's transactions confirmed a minute late.

``AnvilNudge`` looks at the node every ``interval`` seconds. A sender whose lowest waiting
nonce equals its chain nonce at two looks in a row has its pool transactions taken out and
sent again, in nonce order, so anvil checks them against the chain as it is now. Ready
transactions that waited through a whole interval with no new block and no new transaction,
on an automining node, get a block (``evm_mine``); a block that came out empty (nothing ready
could be mined, e.g. fees below the base fee) is not tried again until the pool or the chain
changes. Started by ``ops.processes.start_anvil`` (dev stack, benchmark, tests): a daemon
thread of the process that started anvil, ending with anvil.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

log = logging.getLogger("kvsigner.dev.anvil")

Rpc = Callable[[str, list[Any]], Any]


def http_rpc(url: str, timeout: float = 5.0) -> Rpc:
    """A JSON-RPC caller for a node on this machine: returns ``result``, raises
    ``RuntimeError`` on an error answer and ``OSError`` when the node is unreachable."""
    session = requests.Session()
    session.trust_env = False  # a loopback node: never through a proxy

    def call(method: str, params: list[Any]) -> Any:
        reply = session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                        "params": params}, timeout=timeout).json()
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result")
    return call


class AnvilNudge:
    """Decides, one ``look()`` at a time, whether anvil needs help; ``nudges`` counts the
    blocks it mined and the senders it sent again."""

    def __init__(self, rpc: Rpc, interval: float = 1.0) -> None:
        self.rpc = rpc
        self.interval = interval
        self.nudges = 0
        self._last: tuple[int, int] | None = None  # (block, ready) at the previous look
        self._fruitless: tuple[int, int] | None = None  # state an empty nudge left
        self._suspects: set[tuple[str, int]] = set()  # (sender, nonce) stranded last look

    def look(self) -> int:
        """One look; returns how many times it stepped in."""
        status = self.rpc("txpool_status", [])
        state = (int(self.rpc("eth_blockNumber", []), 16), int(status["pending"], 16))
        acted = self._resend_stranded() if int(status["queued"], 16) else 0
        if not acted:  # a resend changes the pool: judge the miner at the next look
            acted += self._mine_if_stalled(state)
        self._last = None if acted else state
        self.nudges += acted
        return acted

    def _resend_stranded(self) -> int:
        """Send again the pool transactions of senders stranded at two looks in a row."""
        waiting = self.rpc("txpool_inspect", [])["queued"]  # anvil: queued = not ready
        suspects = set()
        for sender, by_nonce in waiting.items():
            lowest = min(int(nonce) for nonce in by_nonce)
            if lowest == int(self.rpc("eth_getTransactionCount", [sender, "latest"]), 16):
                suspects.add((sender.lower(), lowest))
        stranded = suspects & self._suspects
        self._suspects = suspects - stranded
        for sender, nonce in sorted(stranded):
            sent = self._resend(sender)
            log.warning("anvil held nonce %d of %s as waiting for an earlier one; sent its "
                        "%d pool transaction(s) again", nonce, sender, sent)
        return len(stranded)

    def _resend(self, sender: str) -> int:
        content = self.rpc("txpool_content", [])
        held = [tx for kind in ("pending", "queued")
                for address, by_nonce in content[kind].items() if address.lower() == sender
                for tx in by_nonce.values()]
        raws = sorted((int(tx["nonce"], 16), self.rpc("eth_getRawTransactionByHash",
                                                      [tx["hash"]])) for tx in held)
        self.rpc("anvil_removePoolTransactions", [sender])
        sent = 0
        for _, raw in raws:
            try:
                self.rpc("eth_sendRawTransaction", [raw])
                sent += 1
            except RuntimeError:  # sent again meanwhile by its owner, or replaced
                log.debug("resend refused", exc_info=True)
        return sent

    def _mine_if_stalled(self, state: tuple[int, int]) -> int:
        """Mine a block when ready transactions waited a whole interval (same block, same
        count) on an automining node, unless that state is one an empty block left."""
        stalled = state[1] > 0 and self._last == state
        if not stalled or state == self._fruitless or not self.rpc("anvil_getAutomine", []):
            return 0
        self.rpc("evm_mine", [])
        mined = self.rpc("eth_getBlockByNumber", ["latest", False])["transactions"]
        status = self.rpc("txpool_status", [])
        after = (int(self.rpc("eth_blockNumber", []), 16), int(status["pending"], 16))
        self._fruitless = None if mined else after
        log.warning("anvil left %d ready transaction(s) unmined for %.1f s; mined a block "
                    "with %d", state[1], self.interval, len(mined))
        return 1

    def run(self, alive: Callable[[], bool]) -> None:
        """Look every ``interval`` seconds while ``alive()``. A failed look (anvil busy,
        restarting or gone) is skipped."""
        while True:
            time.sleep(self.interval)
            if not alive():
                return
            try:
                self.look()
            except (OSError, RuntimeError, ValueError, KeyError, TypeError):
                log.debug("anvil look failed", exc_info=True)
                self._last = None

    def start(self, alive: Callable[[], bool]) -> threading.Thread:
        """``run`` in a daemon thread, which ends once ``alive()`` is false."""
        thread = threading.Thread(target=self.run, args=(alive,), name="anvil-nudge",
                                  daemon=True)
        thread.start()
        return thread

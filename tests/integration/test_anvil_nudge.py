"""AnvilNudge against a real anvil: a ready transaction left in the pool gets a block,
and a node that is not automining is left alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.anvil_nudge import AnvilNudge, Rpc, http_rpc
from ops.processes import ManagedProcess, start_anvil

pytestmark = pytest.mark.integration


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ManagedProcess]:
    proc = start_anvil(tmp_path)
    yield proc
    proc.stop()


def pending_transfer(rpc: Rpc) -> str:
    """A transfer from anvil's first account, sent while mining is off: ready, unmined."""
    rpc("evm_setAutomine", [False])
    sender, receiver = rpc("eth_accounts", [])[:2]
    tx_hash = rpc("eth_sendTransaction", [{"from": sender, "to": receiver, "value": "0x1"}])
    assert rpc("eth_getTransactionReceipt", [tx_hash]) is None
    assert int(rpc("txpool_status", [])["pending"], 16) == 1
    return str(tx_hash)


def test_a_stranded_sender_is_sent_again_and_mined(node: ManagedProcess) -> None:
    rpc = http_rpc(str(node.extra["url"]))
    sender, receiver = rpc("eth_accounts", [])[:2]
    nonce = int(rpc("eth_getTransactionCount", [sender, "latest"]), 16)
    later = [rpc("eth_sendTransaction", [{"from": sender, "to": receiver, "value": "0x1",
                                          "nonce": hex(nonce + i)}]) for i in (1, 2)]
    # anvil's stranded state: the chain moves past the nonce these wait for, without the
    # pool hearing of it (as when nonce n is mined and pruned between n+1's check and its
    # entry into the pool).
    rpc("anvil_setNonce", [sender, hex(nonce + 1)])
    assert int(rpc("txpool_status", [])["queued"], 16) == 2
    started = node.extra["nudge"]
    assert isinstance(started, AnvilNudge)
    deadline = time.monotonic() + 10 * started.interval
    while time.monotonic() < deadline and rpc("eth_getTransactionReceipt", [later[1]]) is None:
        time.sleep(0.1)
    for tx_hash in later:
        receipt = rpc("eth_getTransactionReceipt", [tx_hash])
        assert receipt is not None and int(receipt["status"], 16) == 1
    assert started.nudges == 1
    assert rpc("txpool_status", []) == {"pending": "0x0", "queued": "0x0"}


def test_a_ready_transaction_the_node_does_not_mine_gets_a_block(
        node: ManagedProcess) -> None:
    rpc = http_rpc(str(node.extra["url"]))
    tx_hash = pending_transfer(rpc)

    def stalled_automine(method: str, params: list[Any]) -> Any:
        # The node says it automines but does not: anvil's stall, on demand.
        return True if method == "anvil_getAutomine" else rpc(method, params)

    nudge = AnvilNudge(stalled_automine)
    assert not nudge.look()
    assert nudge.look()
    receipt = rpc("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None and int(receipt["status"], 16) == 1
    assert int(rpc("txpool_status", [])["pending"], 16) == 0


def test_a_node_with_mining_switched_off_keeps_its_pool(node: ManagedProcess) -> None:
    rpc = http_rpc(str(node.extra["url"]))
    started = node.extra["nudge"]
    assert isinstance(started, AnvilNudge)
    tx_hash = pending_transfer(rpc)
    block = rpc("eth_blockNumber", [])
    time.sleep(started.interval * 2.5)  # the stack's own nudge looks twice or more
    assert started.nudges == 0 and rpc("eth_blockNumber", []) == block
    assert rpc("eth_getTransactionReceipt", [tx_hash]) is None
    rpc("evm_setAutomine", [True])
    rpc("evm_mine", [])
    assert rpc("eth_getTransactionReceipt", [tx_hash]) is not None


def test_the_nudge_ends_with_its_node(tmp_path: Path) -> None:
    proc = start_anvil(tmp_path)
    thread = proc.extra["nudge_thread"]
    assert thread.is_alive()  # type: ignore[attr-defined]
    proc.stop()
    thread.join(timeout=5)  # type: ignore[attr-defined]
    assert not thread.is_alive()  # type: ignore[attr-defined]

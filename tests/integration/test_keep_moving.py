"""Stuck transactions, cancellation and nonce drift, on a real stack (anvil's mining is
switched off and on to hold transactions in the pool)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
import requests

from ops.devstack import DevStack
from tests.integration.stack_helpers import (
    chain_nonce,
    get_tx,
    post_tx,
    rpc,
    use_stack,
    wait_terminal,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = DevStack(tmp_path_factory.mktemp("keep-moving"), api_port=18180, workers=1,
                     keys=3, worker_concurrency=4,
                     extra_env={"KVSIGNER_STUCK_SECONDS": "2", "KVSIGNER_RECONCILE_SECONDS": "1",
                                "KVSIGNER_GAP_FILL_SECONDS": "2", "KVSIGNER_SWEEP_SECONDS": "5",
                                "KVSIGNER_RECEIPT_POLL_SECONDS": "0.3",
                                "KVSIGNER_NONCE_RESYNC_SECONDS": "1"})
    use_stack(stack.start())
    yield stack
    stack.stop()


def wait_for(api: str, tx_id: str, check: object, timeout: float = 30) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = get_tx(api, tx_id)
        if check(rec):  # type: ignore[operator]
            return rec
        time.sleep(0.2)
    raise AssertionError(f"condition not met: {get_tx(api, tx_id)}")


def automine(node: str, on: bool) -> None:
    rpc(node, "evm_setAutomine", on)


def test_stuck_transaction_is_bumped_and_mined(stack: DevStack) -> None:
    api, node, sender = stack.info["api"], stack.info["nodeUrl"], stack.info["accounts"][0]
    automine(node, False)
    try:
        tx_id = post_tx(api, {"from": sender, "to": sender, "value": "5"}).json()["id"]
        first = wait_for(api, tx_id, lambda r: r["status"] == "submitted")
        bumped = wait_for(api, tx_id, lambda r: r["bumps"] >= 1, timeout=20)
    finally:
        automine(node, True)
    rpc(node, "evm_mine")
    done = wait_terminal(api, [tx_id], 30)[tx_id]
    assert done["status"] == "confirmed"
    assert len(done["hashes"]) >= 2
    assert done["receipt"]["transactionHash"] in done["hashes"]
    assert done["nonce"] == first["nonce"] == bumped["nonce"]
    for field in ("maxFeePerGas", "maxPriorityFeePerGas"):
        assert int(bumped["fees"][field]) * 100 >= int(first["fees"][field]) * 110, field
    assert any("fee bump" in h["note"] for h in done["history"])


def test_cancel_before_broadcast_hands_the_nonce_on(stack: DevStack) -> None:
    api, node, sender = stack.info["api"], stack.info["nodeUrl"], stack.info["accounts"][1]
    expected = chain_nonce(node, sender, "pending")
    for proc in list(stack.worker_procs):
        proc.stop()
    stack.worker_procs.clear()
    tx_id = post_tx(api, {"from": sender, "to": sender, "value": "1"}).json()["id"]
    resp = requests.post(f"{api}/transactions/{tx_id}/cancel", timeout=30)
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "cancelled"
    again = requests.post(f"{api}/transactions/{tx_id}/cancel", timeout=30)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_cancellable"
    stack.add_worker("w-after-cancel")
    next_id = post_tx(api, {"from": sender, "to": sender, "value": "2"}).json()["id"]
    done = wait_terminal(api, [next_id], 60)[next_id]
    assert done["status"] == "confirmed"
    assert done["nonce"] == expected
    assert get_tx(api, tx_id)["status"] == "cancelled"


def test_cancel_after_broadcast_replaces_with_a_self_transfer(stack: DevStack) -> None:
    api, node, sender = stack.info["api"], stack.info["nodeUrl"], stack.info["accounts"][2]
    automine(node, False)
    try:
        tx_id = post_tx(api, {"from": sender, "to": stack.info["accounts"][0],
                              "value": "777"}).json()["id"]
        wait_for(api, tx_id, lambda r: r["status"] == "submitted")
        resp = requests.post(f"{api}/transactions/{tx_id}/cancel", timeout=30)
        assert resp.status_code == 202, resp.text
        assert resp.json()["cancelRequested"] is True
        assert len(resp.json()["hashes"]) == 2
    finally:
        automine(node, True)
    rpc(node, "evm_mine")
    done = wait_terminal(api, [tx_id], 30)[tx_id]
    assert done["status"] == "cancelled"
    mined = rpc(node, "eth_getTransactionByHash", done["receipt"]["transactionHash"])
    assert int(mined["value"], 16) == 0
    assert mined["to"].lower() == sender.lower()
    assert int(mined["nonce"], 16) == done["nonce"]


def test_mined_transaction_cannot_be_cancelled(stack: DevStack) -> None:
    api, sender = stack.info["api"], stack.info["accounts"][0]
    tx_id = post_tx(api, {"from": sender, "to": sender, "value": "3"}).json()["id"]
    wait_terminal(api, [tx_id], 30)
    resp = requests.post(f"{api}/transactions/{tx_id}/cancel", timeout=30)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "not_cancellable"
    assert requests.post(f"{api}/transactions/{'0' * 32}/cancel",
                         timeout=30).status_code == 404


def test_receipt_rounds_resume_when_their_chain_is_lost(stack: DevStack) -> None:
    api, node, sender = stack.info["api"], stack.info["nodeUrl"], stack.info["accounts"][1]
    client = redis.Redis.from_url(stack.info["redisUrl"])
    automine(node, False)
    try:
        tx_id = post_tx(api, {"from": sender, "to": sender, "value": "4"}).json()["id"]
        wait_for(api, tx_id, lambda r: r["status"] == "submitted")
        # As if the worker holding the next round's message died: that message now ends
        # its chain, and no new broadcast comes to start another. Beat must.
        client.delete("kvsigner:track-chain")
        time.sleep(1.0)
        assert get_tx(api, tx_id)["status"] == "submitted"
        rpc(node, "evm_mine")
    finally:
        automine(node, True)
    assert wait_terminal(api, [tx_id], 30)[tx_id]["status"] == "confirmed"
    assert client.exists("kvsigner:track-chain")


def test_local_nonce_ahead_of_the_chain_is_rewound(stack: DevStack) -> None:
    node, sender = stack.info["nodeUrl"], stack.info["accounts"][1]
    client = redis.Redis.from_url(stack.info["redisUrl"])
    key = f"kvsigner:nonce:31337:{sender}"
    chain = chain_nonce(node, sender, "pending")
    client.hset(key, mapping={"next": chain + 5, "synced_at": time.time()})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and int(client.hget(key, "next") or 0) != chain:
        time.sleep(0.2)
    assert int(client.hget(key, "next") or 0) == chain


def test_gap_below_a_held_nonce_is_filled(stack: DevStack) -> None:
    """Drift puts the next transaction 3 nonces ahead of the chain: the reconciler frees
    the holes and fills them with 0-value self-transfers, and the transaction is mined."""
    api, node, sender = stack.info["api"], stack.info["nodeUrl"], stack.info["accounts"][0]
    client = redis.Redis.from_url(stack.info["redisUrl"])
    chain = chain_nonce(node, sender, "pending")
    client.hset(f"kvsigner:nonce:31337:{sender}",
                mapping={"next": chain + 3, "synced_at": time.time() + 3600})
    tx_id = post_tx(api, {"from": sender, "to": sender, "value": "9"}).json()["id"]
    done = wait_terminal(api, [tx_id], 90)[tx_id]
    assert done["status"] == "confirmed"
    assert done["nonce"] == chain + 3
    assert chain_nonce(node, sender) == chain + 4
    listed = requests.get(f"{api}/transactions", params={"from": sender, "limit": 50},
                          timeout=10).json()["transactions"]
    fillers = [t for t in listed if t["kind"] == "filler"]
    assert sorted(t["nonce"] for t in fillers) == [chain, chain + 1, chain + 2]
    # Mined before the transaction (lower nonces); their own trackers may be a poll behind.
    finished = wait_terminal(api, [t["id"] for t in fillers], 30)
    assert all(t["status"] == "confirmed" for t in finished.values())


def test_a_lost_drain_message_is_made_up_for_by_beat(stack: DevStack) -> None:
    api, sender = stack.info["api"], stack.info["accounts"][2]
    client = redis.Redis.from_url(stack.info["redisUrl"])
    # A drain counts as pending, but its message is gone: the POST below sends none.
    client.set("kvsigner:inbox:drain", "1", px=60_000)
    tx_id = post_tx(api, {"from": sender, "to": sender, "value": "5"}).json()["id"]
    # No message, so no worker took it: it waits in the inbox. (Looked at at once: beat's
    # own drain, every 5 s, may come at any moment.)
    assert client.lrange("kvsigner:inbox", 0, -1) == [tx_id.encode()]
    # Beat sends a drain every few seconds; it takes the waiting id.
    assert wait_terminal(api, [tx_id], 30)[tx_id]["status"] == "confirmed"
    assert client.llen("kvsigner:inbox") == 0


def test_ids_taken_by_a_drain_that_died_are_queued_again_by_the_sweeper(
        stack: DevStack) -> None:
    api, sender = stack.info["api"], stack.info["accounts"][2]
    client = redis.Redis.from_url(stack.info["redisUrl"])
    client.set("kvsigner:inbox:drain", "1", px=60_000)
    tx_id = post_tx(api, {"from": sender, "to": sender, "value": "6"}).json()["id"]
    # A worker took the id from the inbox and died before it processed it.
    assert client.lpop("kvsigner:inbox") == tx_id.encode()
    client.delete("kvsigner:inbox:drain")
    time.sleep(1.0)
    assert get_tx(api, tx_id)["status"] == "queued"
    # Untouched for KVSIGNER_SWEEP_SECONDS (5 here): the sweeper queues it again.
    assert wait_terminal(api, [tx_id], 40)[tx_id]["status"] == "confirmed"

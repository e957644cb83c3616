"""The transaction pipeline end to end: real Redis, anvil, the Key Vault emulator, the API
and real Celery worker processes, driven over HTTP exactly as a client would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ops.devstack import DevStack
from tests.integration.stack_helpers import (
    REVERT_NOPE_INITCODE,
    assert_contiguous,
    chain_nonce,
    get_tx,
    post_many,
    post_tx,
    rpc,
    use_stack,
    wait_terminal,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = DevStack(tmp_path_factory.mktemp("stack"), api_port=18080, workers=2, keys=4,
                     worker_concurrency=6,
                     extra_env={"KVSIGNER_SWEEP_SECONDS": "10", "KVSIGNER_LEASE_SECONDS": "20",
                                "KVSIGNER_VISIBILITY_TIMEOUT": "30",
                                "KVSIGNER_RECEIPT_POLL_SECONDS": "0.5"})
    use_stack(stack.start())
    yield stack
    stack.stop()


def test_a_posted_transaction_is_confirmed_from_the_vault_address(stack: DevStack) -> None:
    api, sender = stack.info["api"], stack.info["accounts"][0]
    resp = post_tx(api, {"from": sender, "to": stack.info["accounts"][1], "value": "12345"})
    assert resp.status_code == 202, resp.text
    created = resp.json()
    assert created["status"] == "queued"
    rec = wait_terminal(api, [created["id"]], 60)[created["id"]]
    assert rec["status"] == "confirmed", rec
    receipt = rec["receipt"]
    assert receipt["status"] == 1 and receipt["blockNumber"] >= 1
    mined = rpc(stack.info["nodeUrl"], "eth_getTransactionByHash", receipt["transactionHash"])
    assert mined["from"].lower() == sender.lower()
    assert int(mined["value"], 16) == 12345
    assert [h["status"] for h in rec["history"]][-1] == "confirmed"
    assert {"queued", "signed", "submitted"} <= {h["status"] for h in rec["history"]}


def test_concurrent_batch_keeps_every_sender_contiguous(stack: DevStack) -> None:
    api, node = stack.info["api"], stack.info["nodeUrl"]
    senders = stack.info["accounts"][:4]
    start = {s: chain_nonce(node, s, "pending") for s in senders}
    bodies = [{"from": senders[i % 4], "to": senders[(i + 1) % 4], "value": str(i + 1)}
              for i in range(300)]
    ids = post_many(api, bodies, threads=24)
    assert len(set(ids)) == 300
    done = wait_terminal(api, ids, 300)
    assert_contiguous(done.values(), start, node)


def test_killed_worker_loses_and_duplicates_nothing(stack: DevStack) -> None:
    api, node = stack.info["api"], stack.info["nodeUrl"]
    senders = stack.info["accounts"][:3]
    start = {s: chain_nonce(node, s, "pending") for s in senders}
    bodies = [{"from": senders[i % 3], "to": senders[0], "value": "1"} for i in range(90)]
    ids = post_many(api, bodies, threads=12)
    # Kill one worker while the batch is in flight: it may hold the nonce lock, a lease,
    # or messages it has taken but not acknowledged.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = [get_tx(api, i)["status"] for i in ids[:45]]
        if sum(s != "queued" for s in states) >= 10:
            break
        time.sleep(0.1)
    victim = stack.worker_procs[0]
    victim.kill()
    replacement = stack.add_worker("w-replacement")
    try:
        done = wait_terminal(api, ids, 240)
        assert_contiguous(done.values(), start, node)
    finally:
        assert replacement.alive()


def test_reverting_call_fails_with_reason_and_burns_no_nonce(stack: DevStack) -> None:
    api, node = stack.info["api"], stack.info["nodeUrl"]
    sender = stack.info["accounts"][3]
    before = chain_nonce(node, sender, "pending")
    resp = post_tx(api, {"from": sender, "data": REVERT_NOPE_INITCODE})
    assert resp.status_code == 202, resp.text
    failed = wait_terminal(api, [resp.json()["id"]], 60)[resp.json()["id"]]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "execution_reverted"
    assert "nope" in failed["error"]["message"]
    assert failed["nonce"] is None
    resp = post_tx(api, {"from": sender, "to": sender, "value": "1"})
    ok = wait_terminal(api, [resp.json()["id"]], 60)[resp.json()["id"]]
    assert ok["status"] == "confirmed"
    assert ok["nonce"] == before


def test_reverting_transaction_with_explicit_gas_ends_reverted(stack: DevStack) -> None:
    api = stack.info["api"]
    sender = stack.info["accounts"][3]
    resp = post_tx(api, {"from": sender, "data": REVERT_NOPE_INITCODE, "gas": 100000})
    rec = wait_terminal(api, [resp.json()["id"]], 60)[resp.json()["id"]]
    assert rec["status"] == "reverted"
    assert rec["receipt"]["status"] == 0


def test_idempotent_repeat_and_conflict(stack: DevStack) -> None:
    api, sender = stack.info["api"], stack.info["accounts"][2]
    body = {"from": sender, "to": sender, "value": "7"}
    first = post_tx(api, body, key="order-42")
    again = post_tx(api, body, key="order-42")
    assert first.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    conflict = post_tx(api, {**body, "value": "8"}, key="order-42")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    listed = requests.get(f"{api}/transactions", params={"from": sender, "limit": 200},
                          timeout=10).json()["transactions"]
    assert sum(1 for t in listed if t.get("idempotencyKey") == "order-42") == 1


def test_dev_json_describes_the_stack(stack: DevStack) -> None:
    import json

    info = json.loads((Path(stack.data_dir) / "dev.json").read_text())
    for key in ("api", "rpc", "vaultUrl", "caFile", "nodeUrl", "redisUrl", "accounts"):
        assert info[key], key
    assert len(info["accounts"]) == 4
    assert requests.get(info["api"] + "/healthz", timeout=5).status_code == 200

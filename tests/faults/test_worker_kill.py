"""Scenario 1: SIGKILL a worker while it holds a sender's nonce lock, and another one right
after its broadcast reached the node; replacement workers finish the batch.

The timing is made deterministic by the node proxy, not by hooks in kvsigner: with
KVSIGNER_NONCE_RESYNC_SECONDS=0 every nonce assignment asks the node for the pending count
inside the critical section, and the proxy holds that request, so the worker is frozen with
the lock taken. For the second kill the proxy SIGKILLs the caller right after it has written
the node's answer to an ``eth_sendRawTransaction``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.node_proxy import decode_raw
from tests.faults.scenario import finish
from tests.faults.stack import FaultStack, transfers

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def _record_with_hash(fs: FaultStack, tx_hash: str) -> dict[str, Any] | None:
    for raw in fs.redis.smembers("kvsigner:active"):
        tx_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        rec = fs.get(tx_id)
        if tx_hash in rec["hashes"]:
            return rec
    return None


def test_sigkill_in_nonce_lock_and_after_broadcast(
        fault_stack: Callable[..., FaultStack]) -> None:
    fs = fault_stack("worker-kill", workers=2, keys=3, concurrency=4,
                     env={"KVSIGNER_NONCE_RESYNC_SECONDS": "0"})
    proxy = fs.proxy
    assert proxy is not None
    senders = fs.accounts
    start = {s: fs.nonce(s, "pending") for s in senders}
    t0 = time.monotonic()

    # --- kill 1: inside the nonce critical section ----------------------------------------
    proxy.hold_when(lambda method, params: method == "eth_getTransactionCount"
                    and len(params) > 1 and params[1] == "pending")
    posted = fs.post(transfers(senders, 90))
    held = proxy.held.get(timeout=30)
    victim = fs.worker_by_pid(held.pid)
    assert victim is not None, f"the held call came from pid {held.pid}, not a worker"
    sender = str(held.params[0])
    lock_key = f"kvsigner:lock:nonce:{fs.chain_id}:{sender}"
    assert fs.redis.exists(lock_key), f"{lock_key} not held while inside the critical section"
    lock_ttl = int(fs.redis.pttl(lock_key))
    victim.kill()
    proxy.release_all()
    first = f"{victim.name} killed holding {lock_key.rsplit(':', 1)[1][:10]} (ttl {lock_ttl}ms)"
    fs.dev.add_worker("r1")

    # --- kill 2: right after a broadcast was answered ---------------------------------------
    killed = threading.Event()
    kill_info: dict[str, Any] = {}

    def is_send(method: str, params: list[Any]) -> bool:
        return method == "eth_sendRawTransaction"

    def kill_caller(method: str, params: list[Any], pid: int | None) -> None:
        worker = fs.worker_by_pid(pid)
        if worker is None:  # not a worker (or gone): wait for the next broadcast
            proxy.after_reply_once(is_send, kill_caller)
            return
        worker.kill()
        kill_info.update(name=worker.name, raw=params[0])
        killed.set()

    proxy.after_reply_once(is_send, kill_caller)
    assert killed.wait(30), "no broadcast from a worker within 30s"
    fs.dev.add_worker("r2")
    sent_hash = decode_raw(str(kill_info["raw"]))[0]
    at_kill = _record_with_hash(fs, sent_hash)
    second = (f"{kill_info['name']} killed after broadcast of {sent_hash[:10]} "
              f"(record then {at_kill['status'] if at_kill else 'already finished'})")
    progress = fs.status_counts()
    done_at_kill = progress["confirmed"] + progress["failed"]

    finish(fs, "worker-kill", posted, start, t0, terminal_timeout=150,
           extra=f"{first}; {second}; {done_at_kill} done at 2nd kill")

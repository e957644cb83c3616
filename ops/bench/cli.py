"""``kvsigner bench``: how many transactions per second the pipeline carries, next to a
direct signing loop on the same node and vault, and whether every nonce was used once.

    kvsigner bench --txs 1000 --senders 8 --workers 2 --kv-latency-ms 30 [--json]
    kvsigner bench --api http://127.0.0.1:8080 --api-key KEY ...   # a running stack

Without ``--api`` it starts a dev stack (Redis, anvil, the Key Vault emulator with the given
latency, the API, the workers and beat) in a temporary directory and stops it afterwards.
The direct loop runs first (on a stack it started, its blocks are then rewound with
``evm_revert``, so that both loops meet the node with the same chain), then one warm-up
transaction per sender, then the measured run.
With ``--json`` stdout carries exactly one JSON object; progress goes to stderr. The exit
status is 0 when every transaction was confirmed with no nonce gap or duplicate, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ops.bench import report
from ops.bench.checks import check_nonces
from ops.bench.client import ApiError
from ops.bench.cpu import CpuMeter, per_tx_ms
from ops.bench.direct_run import DirectResult, run_direct
from ops.bench.pipeline_run import run_pipeline, warm_up
from ops.bench.rpc import nonces
from ops.bench.target import Target, running_stack, start_stack
from ops.processes import ServiceError
from worker.chain.node import NodeClient
from worker.domain.errors import KvsignerError
from worker.settings import Settings

# Value goes to an address nobody holds a key for; the amount (1 wei) only has to be > 0.
SINK = "0x000000000000000000000000000000000000dEaD"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kvsigner bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--txs", type=int, default=1000, help="transactions to send (1000)")
    p.add_argument("--senders", type=int, default=8, help="sending accounts (8)")
    p.add_argument("--workers", type=int, default=2, help="worker processes to start (2)")
    p.add_argument("--worker-concurrency", type=int, default=None,
                   help="threads per worker process (default KVSIGNER_WORKER_CONCURRENCY, "
                        "else 8)")
    p.add_argument("--kv-latency-ms", type=float, default=None,
                   help="latency the emulator adds to every signature (default 0)")
    p.add_argument("--clients", type=int, default=None,
                   help="concurrent HTTP clients posting (default: one per sender)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for receipts (default 120 + txs/5)")
    p.add_argument("--api-processes", type=int, default=2,
                   help="gunicorn processes serving the started stack's API; 0: the dev "
                        "stack's development server (2)")
    p.add_argument("--rate", type=float, default=None,
                   help="POSTs per second in total (default: as fast as the API answers)")
    p.add_argument("--skip-direct", action="store_true", help="do not run the direct loop")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep the started stack's files (logs!) here instead of a temp dir")
    running = p.add_argument_group("using a running stack")
    running.add_argument("--api", help="the API's base URL; nothing is started")
    running.add_argument("--api-key", help="sent as Authorization: Bearer KEY")
    running.add_argument("--node-url", help="the node (default KVSIGNER_NODE_URL)")
    return p


def _target(args: argparse.Namespace) -> Target:
    if args.api:
        return running_stack(args.api, args.api_key, args.senders, args.kv_latency_ms,
                             args.node_url)
    return start_stack(args.senders, args.workers, args.kv_latency_ms or 0.0,
                       args.worker_concurrency, args.data_dir, {}, args.api_processes)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _params(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """How the run was set up, for the report (None: not known for a running stack)."""
    started = not args.api
    stack_settings = Settings.from_env(target.signer_env) if started else None
    return {"senders": len(target.senders),
            "workers": args.workers if started else None,
            "worker_concurrency": stack_settings.worker_concurrency if stack_settings else None,
            "worker_nice": stack_settings.worker_nice if stack_settings else None,
            "vault_rate_limit": stack_settings.vault_rate_limit if stack_settings else None,
            "kv_latency_ms": (args.kv_latency_ms or 0.0) if started else args.kv_latency_ms,
            "clients": args.clients or len(target.senders), "rate": args.rate,
            "api_server": "running" if not started else (
                f"gunicorn x{args.api_processes}" if args.api_processes else "development"),
            "cpus": os.cpu_count()}


def run(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    """Direct loop, warm-up, measured pipeline run, nonce checks; returns the report."""
    if target.node_url is None:
        raise ValueError("the node URL is unknown: pass --node-url or set KVSIGNER_NODE_URL")
    timeout = args.timeout or 120.0 + args.txs / 5.0
    node = NodeClient(target.node_url)
    meter = CpuMeter(target.processes())
    cpu: dict[str, Any] = {}
    direct: DirectResult | None = None
    if target.signer_env is not None and not args.skip_direct:
        _log(f"direct loop: {args.txs} transactions ...")
        # anvil's cost per block grows with the chain's length: on a node of its own the
        # benchmark rewinds the direct loop's blocks, so both loops start from one chain.
        snapshot = node.call("evm_snapshot") if target.own_node else None
        before = meter.sample()
        direct = run_direct(target.signer_env, target.node_url, target.senders, args.txs,
                            SINK, timeout)
        used = per_tx_ms(before, meter.sample(), args.txs)
        cpu["direct_cpu_ms_per_tx"] = round(sum(used.values()), 2) if used else None
        _log(f"direct loop: {direct.tps:.1f} tx/s")
        if snapshot is not None:
            node.call("evm_revert", [snapshot])
    _log("pipeline: warm-up ...")
    clients = args.clients or len(target.senders)
    warm_up(target.api, target.senders, SINK, timeout, clients)
    start = nonces(node, target.senders, "pending")
    nudged = target.node_nudges()
    _log(f"pipeline: {args.txs} transactions ...")
    before = meter.sample()
    # CPU is read when the last transaction is finished: reading every record back for
    # the report is the benchmark's work, not the pipeline's.
    finished: list[Any] = []
    pipeline = run_pipeline(target.api, target.senders, args.txs, SINK, clients, timeout,
                            args.rate,
                            on_finished=lambda: finished.append(meter.sample()))
    used = per_tx_ms(before, finished[0] if finished else meter.sample(), args.txs)
    service = {role: ms for role, ms in used.items() if role != "bench"}
    cpu["pipeline_cpu_ms_per_tx"] = round(sum(service.values()), 2) if service else None
    cpu["pipeline_cpu_ms_by_role"] = used or None
    if nudged is not None:
        cpu["node_nudges"] = (target.node_nudges() or 0) - nudged
    checked = check_nonces(node, pipeline.records.values(), start)
    params = {**_params(args, target), **cpu}
    notes = list(target.notes) + pipeline.submit_errors[:3]
    if cpu.get("node_nudges"):
        notes.append(f"anvil held transactions without mining them {cpu['node_nudges']} "
                     "time(s) in the measured run; the stack got them moving after 1 - 2 s "
                     "each (ops/anvil_nudge.py)")
    if target.api.throttled:
        notes.append(f"{target.api.throttled} POSTs got 429 (the key's rate limit) and were "
                     "retried after Retry-After")
    if direct is not None:
        notes += sorted(set(direct.errors))[:3]
    return report.build(pipeline, direct, checked, params, notes)


INTERRUPTED = 130


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """Run the benchmark; 0 when everything was confirmed without nonce faults, 1 when
    not, 2 when it could not run at all, 130 when interrupted (SIGINT or SIGTERM; a stack it
    started is stopped first)."""
    args = _parser().parse_args(argv)
    if args.txs < 1 or args.senders < 1 or args.workers < 1:
        print("kvsigner bench: --txs, --senders and --workers must be positive",
              file=sys.stderr)
        return 2
    # Stopped like Ctrl-C, so that the stack it started is stopped too (its processes run in
    # their own process groups and would outlive it, loading the machine).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        target = _target(args)
    except (ServiceError, OSError, ValueError, KvsignerError, ApiError) as exc:
        print(f"kvsigner bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kvsigner bench: interrupted", file=sys.stderr)
        return INTERRUPTED
    try:
        result = run(args, target)
    except (OSError, ValueError, KvsignerError, ApiError) as exc:
        print(f"kvsigner bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kvsigner bench: interrupted; stopping the stack", file=sys.stderr)
        return INTERRUPTED
    finally:
        target.close()
    print(json.dumps(result) if args.json else report.table(result), flush=True)
    ok = result["failed"] == 0 and result["nonce_gaps"] == 0 and result["duplicates"] == 0
    return 0 if ok else 1

"""A kvsigner stack for one fault scenario: anvil (started here, so its process can be
paused), optionally the node proxy in front of it, and the dev stack (Redis, emulator, API,
workers, beat) pointed at the proxy. Helpers send batches and read progress."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from ops.devstack import DEV_BALANCE_WEI, DevStack
from ops.keyvault_emulator.admin import EmulatorAdmin
from ops.processes import ManagedProcess, free_port, start_anvil
from tests.faults.node_proxy import NodeProxy
from tests.integration.stack_helpers import use_stack

#: Settings that make recovery paths fast enough for a bounded test; scenarios add theirs.
FAST_RECOVERY = {
    "KVSIGNER_RECEIPT_POLL_SECONDS": "0.5",
    "KVSIGNER_SWEEP_SECONDS": "6",
    "KVSIGNER_LEASE_SECONDS": "10",
    "KVSIGNER_VISIBILITY_TIMEOUT": "20",
    "KVSIGNER_NONCE_LOCK_SECONDS": "10",
    "KVSIGNER_RECONCILE_SECONDS": "3",
    "KVSIGNER_GAP_FILL_SECONDS": "4",
    "KVSIGNER_VAULT_BACKOFF_CAP": "4",
}


@dataclass
class Posted:
    """The outcome of sending a batch: accepted ids, the refusals by error code, and the
    refused bodies (of the last batch only, after a merge)."""

    ids: list[str]
    refused: dict[str, int]
    sent: int
    refused_bodies: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Posted) -> Posted:
        refused = dict(self.refused)
        for code, n in other.refused.items():
            refused[code] = refused.get(code, 0) + n
        return Posted(self.ids + other.ids, refused, self.sent + other.sent,
                      list(other.refused_bodies))


class FaultStack:
    """Start with ``start()``; ``stop()`` ends everything (idempotent)."""

    def __init__(self, data_dir: Path, *, workers: int = 2, keys: int = 3,
                 concurrency: int = 4, env: dict[str, str] | None = None,
                 proxy: bool = True, emulator_args: list[str] | None = None) -> None:
        self.data_dir = data_dir
        self.use_proxy = proxy
        self.anvil: ManagedProcess | None = None
        self.proxy: NodeProxy | None = None
        self.dev = DevStack(data_dir, api_port=free_port(), workers=workers, keys=keys,
                            worker_concurrency=concurrency,
                            emulator_args=list(emulator_args or []),
                            extra_env={**FAST_RECOVERY, **(env or {})})
        self.started_at = time.monotonic()
        self._redis: redis.Redis | None = None
        self._admin: EmulatorAdmin | None = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> FaultStack:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.anvil = start_anvil(self.data_dir / "logs", free_port())
        node_url = str(self.anvil.extra["url"])
        if self.use_proxy:
            self.proxy = NodeProxy(node_url, self.app_pids).start()
            node_url = self.proxy.url
        self.dev.node_url = node_url
        use_stack(self.dev.start())
        for address in self.accounts:
            self.rpc("anvil_setBalance", address, hex(DEV_BALANCE_WEI))
        self.started_at = time.monotonic()
        return self

    def stop(self) -> None:
        self.dev.stop()
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def app_pids(self) -> list[int]:
        return [p.pid for p in self.dev.procs if p.alive()]

    # --- facts --------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return str(self.dev.info["api"])

    @property
    def node(self) -> str:
        """anvil itself (not the proxy): what the test uses to look at the chain."""
        assert self.anvil is not None
        return str(self.anvil.extra["url"])

    @property
    def accounts(self) -> list[str]:
        return list(self.dev.info["accounts"])

    @property
    def chain_id(self) -> int:
        return int(self.rpc("eth_chainId"), 16)

    def proc(self, name: str) -> ManagedProcess:
        for p in self.dev.procs:
            if p.name == name:
                return p
        raise KeyError(name)

    def worker_by_pid(self, pid: int | None) -> ManagedProcess | None:
        return next((p for p in self.dev.worker_procs if p.pid == pid), None)

    @property
    def admin(self) -> EmulatorAdmin:
        if self._admin is None:
            self._admin = EmulatorAdmin(self.dev.env)
        return self._admin

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(str(self.dev.redis_url), socket_timeout=5,
                                               socket_connect_timeout=2)
        return self._redis

    def rpc(self, method: str, *params: Any) -> Any:
        body = requests.post(self.node, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                              "params": list(params)}, timeout=30).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def nonce(self, address: str, tag: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", address, tag), 16)

    @property
    def headers(self) -> dict[str, str]:
        """The dev stack's API key, as every API call sends it."""
        return {"Authorization": f"Bearer {self.dev.api_key}"} if self.dev.api_key else {}

    def key_names(self) -> dict[str, str]:
        """address -> vault key name, read from the vault as kvsigner reads it."""
        from worker.settings import Settings
        from worker.signing.factory import build_signer

        signer = build_signer(Settings.from_env(self.dev.env))
        try:
            return {a.address: a.key_name for a in signer.accounts()}
        finally:
            signer.close()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each process of the stack, by name
        (workers summed as ``workers``), from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[str, float] = {}
        procs = list(self.dev.procs) + ([self.anvil] if self.anvil else [])
        for proc in procs:
            try:
                with open(f"/proc/{proc.pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            name = "workers" if proc.name.startswith("worker-") else proc.name
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        return out

    def logs(self) -> Path:
        return self.data_dir / "logs"

    # --- driving ------------------------------------------------------------------------
    def post(self, bodies: list[dict[str, Any]], threads: int = 12) -> Posted:
        """POST every body concurrently. Accepted (202) ids in order; refusals counted by
        their error code (an unreachable API counts as ``unreachable``)."""
        def one(body: dict[str, Any]) -> tuple[str | None, str | None]:
            try:
                resp = requests.post(f"{self.api}/transactions", json=body,
                                     headers=self.headers, timeout=30)
            except requests.RequestException:
                return None, "unreachable"
            if resp.status_code == 202:
                return str(resp.json()["id"]), None
            try:
                code = str(resp.json()["error"]["code"])
            except (ValueError, KeyError, TypeError):
                code = f"http_{resp.status_code}"
            return None, code

        ids: list[str] = []
        refused: dict[str, int] = {}
        refused_bodies: list[dict[str, Any]] = []
        with ThreadPoolExecutor(threads) as pool:
            for body, (tx_id, code) in zip(bodies, pool.map(one, bodies), strict=True):
                if tx_id is not None:
                    ids.append(tx_id)
                elif code is not None:
                    refused[code] = refused.get(code, 0) + 1
                    refused_bodies.append(body)
        return Posted(ids, refused, len(bodies), refused_bodies)

    def get(self, tx_id: str) -> dict[str, Any]:
        resp = requests.get(f"{self.api}/transactions/{tx_id}", headers=self.headers,
                            timeout=10)
        resp.raise_for_status()
        return dict(resp.json())

    def status_counts(self) -> dict[str, int]:
        """Records per status, straight from the store's indexes (cheap to poll)."""
        out: dict[str, int] = {}
        for status in ("queued", "signed", "submitted", "mined", "confirmed", "reverted",
                       "failed", "cancelled"):
            out[status] = int(self.redis.zcard(f"kvsigner:idx:status:{status}"))
        return out

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str,
                 interval: float = 0.2) -> None:
        """Poll ``check`` until true; AssertionError naming ``what`` after ``timeout`` s.
        Redis or HTTP errors during the poll (a service is down on purpose) count as false."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (redis.RedisError, requests.RequestException):
                pass
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

    def progressed(self, at_least: int) -> Callable[[], bool]:
        """A check: at least ``at_least`` records have left ``queued``."""
        def check() -> bool:
            counts = self.status_counts()
            return sum(n for s, n in counts.items() if s != "queued") >= at_least
        return check


def transfers(senders: list[str], count: int, to: str | None = None) -> list[dict[str, Any]]:
    """``count`` small value transfers spread round-robin over ``senders``."""
    return [{"from": senders[i % len(senders)],
             "to": to or senders[(i + 1) % len(senders)], "value": str(1000 + i)}
            for i in range(count)]

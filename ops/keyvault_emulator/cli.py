"""``kvsigner keyvault-emulator``: run the local Key Vault emulator until SIGTERM/SIGINT.

Start-up order: credentials, certificates and keys are loaded or created in the data
directory, the server starts listening, and only then is ``emulator.env`` written.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .app import Emulator
from .auth import Credentials
from .ecdsa import HIGH_S_MODES
from .envfile import base_url, env_values, write_env_file
from .faults import FaultConfig, Faults
from .keystore import KeyStore
from .server import EmulatorHTTPServer
from .stats import Stats
from .tls import ensure_certificates, server_context

log = logging.getLogger("kvsigner.keyvault_emulator")

_WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 - recognised, not chosen


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kvsigner keyvault-emulator",
        description="Serve the Azure Key Vault keys API (secp256k1 signing) over HTTPS for "
                    "tests and the dev stack. Writes DATA_DIR/emulator.env when ready.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8443, help="port to listen on (0: any free)")
    p.add_argument("--data-dir", required=True, type=Path,
                   help="keys, CA, credentials and emulator.env live here")
    p.add_argument("--keys", type=int, default=3, metavar="N",
                   help="make sure keys kvsigner-1..kvsigner-N exist (EC-HSM, P-256K)")
    p.add_argument("--advertise-host", metavar="HOST",
                   help="host name written into emulator.env (default: --host, or 127.0.0.1 "
                        "when listening on all addresses)")
    p.add_argument("--san", action="append", default=[], metavar="NAME",
                   help="extra DNS name or IP for the server certificate (repeatable)")
    faults = p.add_argument_group("behaviour and faults (all changeable via /_admin/config)")
    faults.add_argument("--deterministic", action="store_true",
                        help="RFC 6979 nonces (as eth_account) instead of random ones")
    faults.add_argument("--high-s", choices=HIGH_S_MODES, default="random",
                        help="'always': every signature has s > n/2")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="added to every sign")
    faults.add_argument("--latency-jitter-ms", type=float, default=0.0,
                        help="plus a uniform random 0..X ms")
    faults.add_argument("--quota", type=int, default=0, metavar="N",
                        help="vault requests allowed per window, then 429 (0: off)")
    faults.add_argument("--quota-window", type=float, default=10.0, metavar="S",
                        help="quota window in seconds")
    faults.add_argument("--retry-after-ratio", type=float, default=1.0, metavar="R",
                        help="fraction of 429 replies that carry Retry-After")
    faults.add_argument("--throttle-rate", type=float, default=0.0, metavar="R",
                        help="fraction of sign calls answered 429 regardless of the quota")
    faults.add_argument("--fail-rate", type=float, default=0.0, metavar="R",
                        help="fraction of sign calls answered with --fail-status")
    faults.add_argument("--fail-status", type=int, default=503, help="5xx status to inject")
    faults.add_argument("--empty-first-page", action="store_true",
                        help="listings start with an empty page that has a nextLink")
    faults.add_argument("--no-auth-check", action="store_true",
                        help="accept any bearer token (a missing one still gets 401)")
    logs = p.add_argument_group("logging (stderr)")
    logs.add_argument("--log-requests", action="store_true", help="one line per request")
    logs.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return p


def _fault_config(args: argparse.Namespace) -> FaultConfig:
    config = FaultConfig(
        latency_ms=args.latency_ms, latency_jitter_ms=args.latency_jitter_ms,
        quota=args.quota, quota_window_seconds=args.quota_window,
        retry_after_ratio=args.retry_after_ratio, throttle_rate=args.throttle_rate,
        fail_rate=args.fail_rate, fail_status=args.fail_status, high_s=args.high_s,
        deterministic=args.deterministic, auth_check=not args.no_auth_check,
        empty_first_page=args.empty_first_page)
    config.validate()
    return config


def main(argv: list[str]) -> int:
    """Run the emulator; returns 0 after a clean shutdown, 1 when it cannot start."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="%(asctime)s keyvault-emulator %(levelname)s %(message)s")
    try:
        config = _fault_config(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.keys < 0:
        parser.error("--keys must not be negative")
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    advertised = args.advertise_host or (
        "127.0.0.1" if args.host in _WILDCARDS else args.host)
    names = [*args.san, advertised] + ([] if args.host in _WILDCARDS else [args.host])

    creds = Credentials.load_or_create(data_dir)
    certs = ensure_certificates(data_dir, names)
    store = KeyStore(data_dir)
    created = store.ensure_keys(args.keys)
    app = Emulator(creds, store, Faults(config), Stats())
    try:
        server = EmulatorHTTPServer((args.host, args.port), app, server_context(certs),
                                    log_requests=args.log_requests)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="keyvault-emulator", daemon=True)
    thread.start()
    url = base_url(advertised, server.server_address[1])
    write_env_file(data_dir, env_values(url, certs.ca_cert, creds))
    log.info("serving %s (%d keys, %d created now); settings in %s", url,
             len(store.latest_keys()), len(created), data_dir / "emulator.env")
    while not stop.wait(1.0):
        pass
    log.info("shutting down")
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    return 0

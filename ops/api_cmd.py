"""``kvsigner api [--host 127.0.0.1] [--port 8080]``: serve the HTTP API for development.

A threaded werkzeug server (one thread per request): good for development and tests, not
for production, where ``gunicorn api.wsgi:app -c python:api.gunicorn_conf`` serves the
same app. Prints the URL it listens on (``--port 0`` picks a free port) and stops cleanly on
SIGTERM or SIGINT, closing its connections to Redis and the vault.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from werkzeug.serving import BaseWSGIServer, make_server

from api.app import create_app
from worker.logs import configure as configure_logging
from worker.services import Services
from worker.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvsigner api",
        description="Serve the kvsigner HTTP API with a threaded development server "
                    "(production: gunicorn api.wsgi:app).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                                                            "127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 "
                                                               "picks a free one)")
    return parser


def serve(server: BaseWSGIServer, stop: threading.Event) -> None:
    """Serve until ``stop`` is set. ``shutdown()`` must come from a thread other than the
    serving one, so the server runs in a thread and this one waits for the signal."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="api-server", daemon=True)
    thread.start()
    # A timed wait: a signal delivered to another thread only runs its handler once the
    # main thread wakes up, so wake up often.
    while not stop.wait(0.2):
        pass
    server.shutdown()
    thread.join()
    server.server_close()


def main(argv: list[str]) -> int:
    """Run the server; returns the exit status (0 after a clean stop, 1 on bad settings)."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: invalid_settings: {exc}", file=sys.stderr)
        return 1
    configure_logging(settings)
    services = Services(settings)
    server = make_server(args.host, args.port, create_app(services), threaded=True)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"kvsigner api listening on http://{host}:{server.server_port}", flush=True)
    try:
        serve(server, stop)
    finally:
        services.close()
    return 0

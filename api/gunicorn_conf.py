"""gunicorn hooks for the API: ``gunicorn api.wsgi:app -c python:api.gunicorn_conf``.

``post_worker_init``: every worker process, once it has loaded the app (also under
``--preload``, since the hook runs after the fork), starts a background thread that loads
what its first requests would otherwise wait for: the vault's key list, the node's chain id
and the Celery app that sends drain messages. The process serves at once; a dependency that
is down only leaves the loading to the first request that needs it (``/readyz`` reports
it).

``reuse_port``: every worker process listens on a socket of its own (``SO_REUSEPORT``) and
the kernel spreads new connections over them. With one socket shared by all processes, the
process that happens to be running accepts a burst of connections (a client's keep-alive
pool opening at once) and keeps them: one process then serves every request of that client
on one core while the other idles. The price: connections still waiting to be accepted by a
process that stops are reset, and the port is only served once a process has started.
``on_starting`` turns it off where per-process sockets do not work: a Unix socket (Linux
refuses ``SO_REUSEPORT`` on one, and no worker process could start), a socket passed in as
``fd://N`` or by systemd's socket activation (it would be ignored).

Gunicorn takes every module-level name that is one of its settings or hooks; helpers here
start with an underscore.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from api.context import EXTENSION
from worker.services import Services

_log = logging.getLogger("kvsigner.api")

reuse_port = True


def _sockets_per_process_work(addresses: Sequence[object],
                              environ: Mapping[str, str] = os.environ) -> bool:
    """Whether every address gunicorn binds can have a socket per process: TCP addresses
    (host, port) only, and no socket handed over by systemd."""
    if environ.get("LISTEN_FDS") and environ.get("LISTEN_PID") == str(os.getpid()):
        return False
    return all(isinstance(address, tuple) for address in addresses)


def on_starting(server: Any) -> None:
    """Keep gunicorn's one shared socket where sockets per process would not work."""
    if server.cfg.reuse_port and not _sockets_per_process_work(server.cfg.address):
        server.cfg.set("reuse_port", False)
        server.log.info("reuse_port off: a Unix or inherited socket is shared by the "
                        "worker processes")


def on_reload(server: Any) -> None:
    """A reload (SIGHUP) reads this module again: decide again before new workers start."""
    on_starting(server)


def _warm(services: Services) -> None:
    services.warm()
    try:
        import worker.celery_app  # noqa: F401  # the first drain message would import it
    except Exception as exc:  # the type only: the message may name the broker's URL
        _log.warning("warm-up: the Celery app not loaded (%s); the first drain message "
                     "tries again", type(exc).__name__)


def post_worker_init(worker: Any) -> None:
    """Start the warm-up of this worker process's app (``worker.wsgi``)."""
    services: Services = worker.wsgi.extensions[EXTENSION].services
    threading.Thread(target=_warm, args=(services,), name="kvsigner-warm-up",
                     daemon=True).start()

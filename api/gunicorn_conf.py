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

Gunicorn reads every setting name of this module: define nothing else at module level.
"""

from __future__ import annotations

import threading
from typing import Any

from api.context import EXTENSION
from worker.services import Services

reuse_port = True


def _warm(services: Services) -> None:
    services.warm()
    import worker.celery_app  # noqa: F401  # the first drain message would import it


def post_worker_init(worker: Any) -> None:
    """Start the warm-up of this worker process's app (``worker.wsgi``)."""
    services: Services = worker.wsgi.extensions[EXTENSION].services
    threading.Thread(target=_warm, args=(services,), name="kvsigner-warm-up",
                     daemon=True).start()

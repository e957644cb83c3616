"""The WSGI entry point for production servers: ``gunicorn api.wsgi:app -c
python:api.gunicorn_conf`` (the hooks warm each worker process up, ``api.gunicorn_conf``).

The app is created at import, as gunicorn expects; configuration comes from the environment
(``worker.settings``), and logs go to stderr in KVSIGNER_LOG_FORMAT with secrets redacted.
Creating the app makes no network call, so workers start even while a dependency is down
(``/readyz`` reports it).
"""

from __future__ import annotations

from api.app import create_app
from worker.logs import configure as configure_logging
from worker.services import Services
from worker.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings)
app = create_app(Services(_settings))

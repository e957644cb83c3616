"""The WSGI entry point for production servers: ``gunicorn api.wsgi:app``.

The app is created at import, as gunicorn expects; configuration comes from the environment
(``worker.settings``). Creating it makes no network call, so workers start even while a
dependency is down (``/readyz`` reports it).
"""

from __future__ import annotations

from api.app import create_app

app = create_app()

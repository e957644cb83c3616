"""The Flask app factory.

``create_app()`` wires one blueprint per resource to one ``Services`` and one enqueue
function, installs the single error-to-HTTP mapping (``api.errors``) and caps request
bodies at ``KVSIGNER_API_MAX_BODY_BYTES``. Creating the app makes no network call.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from api import accounts, audit, health, metrics, openapi, rpc, rpc_ws, transactions, webhooks
from api.auth import install_auth
from api.body import app_max_content_length
from api.checks import DependencyChecks
from api.context import ApiContext, install
from api.errors import register_error_handlers
from worker.services import Services
from worker.settings import Settings
from worker.submit import InboxEnqueue

BLUEPRINTS = (transactions.bp, accounts.bp, health.bp, openapi.bp, webhooks.blueprint,
              rpc.blueprint, rpc_ws.blueprint,
              audit.bp,
              metrics.bp)


def create_app(services: Services | None = None,
               enqueue: Callable[[str], None] | None = None) -> Flask:
    """An app over ``services`` (default: built from the environment) that hands accepted
    transaction ids to ``enqueue`` (default: the inbox, drained by the workers)."""
    services = services or Services(Settings.from_env())
    # No static folder: every route is JSON and documented in the OpenAPI document.
    app = Flask("kvsigner", static_folder=None)
    # One byte above the limit: see api.body for why chunked bodies need it.
    app.config["MAX_CONTENT_LENGTH"] = app_max_content_length(
        services.settings.api_max_body_bytes)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep documented field order
    install(app, ApiContext(services=services, enqueue=enqueue or InboxEnqueue(services.inbox),
                            checks=DependencyChecks(services)))
    install_auth(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app

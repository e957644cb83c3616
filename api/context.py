"""What the views reach through the app: the process's ``Services``, the enqueue function
and the dependency probes.

Kept on ``app.extensions`` (not in module globals) so that tests can build several apps with
different services side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

from api.checks import DependencyChecks
from api.probes import Prober
from worker.services import Services

EXTENSION = "kvsigner"


@dataclass(frozen=True)
class ApiContext:
    services: Services
    enqueue: Callable[[str], None]
    checks: DependencyChecks
    prober: Prober = field(default_factory=Prober)


def install(app: Flask, context: ApiContext) -> None:
    app.extensions[EXTENSION] = context


def api_context() -> ApiContext:
    """The context of the app handling the current request."""
    context: ApiContext = current_app.extensions[EXTENSION]
    return context


def services() -> Services:
    return api_context().services

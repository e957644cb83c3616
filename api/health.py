"""``/healthz`` (the process is up), ``/readyz`` (its dependencies answer) and ``/status``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api import status_report
from api.context import api_context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Always 200: no dependency is asked, so a slow vault never gets the process killed."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    ctx = api_context()
    body, code = status_report.readiness(ctx.prober, ctx.checks)
    return jsonify(body), code


@bp.get("/status")
def status() -> Response:
    ctx = api_context()
    return jsonify(status_report.status(ctx.prober, ctx.checks, request.host_url))

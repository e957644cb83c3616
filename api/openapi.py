"""``GET /openapi.json``: the API's OpenAPI document (see ``api.openapi_spec``)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.openapi_spec import openapi_document

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())

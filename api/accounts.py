"""``GET /accounts``: the vault's enabled signing accounts."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import services

bp = Blueprint("accounts", __name__)


@bp.get("/accounts")
def list_accounts() -> Response:
    """Vault failures surface as their ``VaultError`` code (e.g. 503 vault_unavailable)."""
    return jsonify({"accounts": [a.to_dict() for a in services().accounts()]})

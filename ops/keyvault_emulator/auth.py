"""Client credentials, the token endpoint and bearer-token checks.

The emulator plays Entra ID for one tenant and one application: ``ClientSecretCredential``
(MSAL underneath) discovers ``/{tenant}/v2.0/.well-known/openid-configuration`` and posts
the client-credentials grant to ``/{tenant}/oauth2/v2.0/token``. Issued access tokens are
HS256 JWTs signed with a key kept in ``DIR/credentials.json``: they can be checked without
remembering them and stay valid across restarts (the SDK caches a token for an hour and a
restarted emulator must not reject it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .files import read_json, write_json_atomic
from .messages import Response, json_response

RESOURCE = "https://vault.azure.net"
TOKEN_LIFETIME = 3599


@dataclass(frozen=True)
class Credentials:
    """The tenant, the one client application, the admin token and the token signing key."""

    tenant_id: str
    client_id: str
    client_secret: str
    admin_token: str
    token_key: str

    def __repr__(self) -> str:  # secrets never reach a log line
        return f"Credentials(tenant_id={self.tenant_id!r}, client_id={self.client_id!r})"

    @classmethod
    def load_or_create(cls, directory: Path) -> Credentials:
        """Read ``DIR/credentials.json``, creating it with fresh random values the first time."""
        path = directory / "credentials.json"
        if path.exists():
            return cls(**read_json(path))
        creds = cls(str(uuid.uuid4()), str(uuid.uuid4()), secrets.token_urlsafe(32),
                    secrets.token_urlsafe(32), secrets.token_hex(32))
        write_json_atomic(path, asdict(creds))
        return creds


def challenge_header(tenant_id: str) -> str:
    """The ``WWW-Authenticate`` value Key Vault sends with a 401."""
    return (f'Bearer authorization="https://login.microsoftonline.com/{tenant_id}", '
            f'resource="{RESOURCE}"')


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and checks access tokens for ``creds``' tenant and client."""

    def __init__(self, creds: Credentials) -> None:
        self._creds = creds
        self._key = bytes.fromhex(creds.token_key)

    def _mac(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())

    def issue(self, now: float | None = None) -> str:
        """A new access token for the vault resource, valid for ``TOKEN_LIFETIME`` seconds."""
        issued = int(time.time() if now is None else now)
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {"aud": RESOURCE, "iss": f"https://sts.windows.net/{self._creds.tenant_id}/",
                  "iat": issued, "nbf": issued, "exp": issued + TOKEN_LIFETIME,
                  "tid": self._creds.tenant_id, "appid": self._creds.client_id,
                  "jti": uuid.uuid4().hex}
        signing_input = (_b64(json.dumps(header).encode()) + "."
                         + _b64(json.dumps(claims).encode()))
        return f"{signing_input}.{self._mac(signing_input)}"

    def is_valid(self, token: str, now: float | None = None) -> bool:
        """True for an unexpired token this emulator (or its earlier run) issued."""
        parts = token.split(".")
        if len(parts) != 3:
            return False
        if not hmac.compare_digest(self._mac(f"{parts[0]}.{parts[1]}"), parts[2]):
            return False
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return False
        current = time.time() if now is None else now
        return bool(claims.get("tid") == self._creds.tenant_id
                    and float(claims.get("exp", 0)) > current)


def _aad_error(status: int, error: str, code: int, description: str) -> Response:
    """An Entra ID style error; azure-identity shows ``error_description`` in its message."""
    return json_response(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4()),
    })


def _tenant_not_found(tenant: str) -> Response:
    return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")


def openid_configuration(creds: Credentials, tenant: str, base_url: str) -> Response:
    """The discovery document MSAL reads (it needs token and authorization endpoints)."""
    if tenant.lower() != creds.tenant_id:
        return _tenant_not_found(tenant)
    root = f"{base_url}/{creds.tenant_id}"
    doc: dict[str, Any] = {
        "issuer": f"{root}/v2.0",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
    }
    return json_response(200, doc)


def token_endpoint(creds: Credentials, issuer: TokenIssuer, tenant: str, body: bytes) -> Response:
    """Answer a client-credentials grant: a bearer token, or the AAD error for bad input."""
    if tenant.lower() != creds.tenant_id:
        return _tenant_not_found(tenant)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return _aad_error(400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type; only "
                          "client_credentials is available.")
    if form.get("client_id") != creds.client_id:
        return _aad_error(400, "unauthorized_client", 700016,
                          f"Application with identifier '{form.get('client_id', '')}' was "
                          f"not found in the directory '{creds.tenant_id}'.")
    secret = form.get("client_secret", "")
    if not hmac.compare_digest(secret.encode(), creds.client_secret.encode()):
        return _aad_error(401, "invalid_client", 7000215,
                          "Invalid client secret provided. Ensure the secret being sent in "
                          f"the request is the client secret value for app "
                          f"'{creds.client_id}'.")
    return json_response(200, {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
                               "ext_expires_in": TOKEN_LIFETIME,
                               "access_token": issuer.issue()})

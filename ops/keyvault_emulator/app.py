"""Top-level routing: token endpoints, the admin endpoint and the authenticated vault API.

The vault API checks the bearer token before anything else, without reading the body:
the Azure SDK sends its first request of each client bodiless (even a POST) and expects a
401 challenge naming the tenant, then repeats the request with a token.
"""

from __future__ import annotations

from .admin_api import AdminApi
from .auth import Credentials, TokenIssuer, challenge_header, openid_configuration, token_endpoint
from .errors import VaultError
from .faults import Faults
from .keystore import KeyStore
from .messages import Request, Response, error_response, json_response
from .stats import Stats
from .vault_api import VaultApi

_DISCOVERY = ["v2.0", ".well-known", "openid-configuration"]
_TOKEN = ["oauth2", "v2.0", "token"]


class Emulator:
    """One emulated vault with its tenant. ``handle`` never raises: errors become replies."""

    def __init__(self, creds: Credentials, store: KeyStore, faults: Faults, stats: Stats) -> None:
        self.creds = creds
        self.store = store
        self.faults = faults
        self.stats = stats
        self.issuer = TokenIssuer(creds)
        self.vault = VaultApi(store, faults, stats)
        self.admin = AdminApi(creds.admin_token, store, faults, stats)

    def handle(self, req: Request) -> Response:
        """Dispatch ``req``; ``VaultError`` becomes the service-shaped error reply."""
        segs = req.segments
        try:
            if segs and segs[0] == "keys":
                return self._vault(req)
            if segs and segs[0] == "_admin":
                return self.admin.handle(req)
            if segs == ["_health"] and req.method == "GET":
                return json_response(200, {"status": "ok"})
            if len(segs) == 4 and segs[1:] == _DISCOVERY and req.method == "GET":
                return openid_configuration(self.creds, segs[0], req.base_url)
            if len(segs) == 4 and segs[1:] == _TOKEN and req.method == "POST":
                response = token_endpoint(self.creds, self.issuer, segs[0], req.read_body())
                if response.status == 200:
                    self.stats.add("tokens_issued")
                return response
            raise VaultError(404, "NotFound", f"{req.method} {req.path} is not served here.")
        except VaultError as exc:
            return error_response(exc)

    def _vault(self, req: Request) -> Response:
        self.stats.add("requests")
        token = req.bearer_token()
        if token is None:
            self._unauthorized("AKV10000: Request is missing a Bearer or PoP token.")
        if self.faults.config.auth_check and token is not None \
                and not self.issuer.is_valid(token):
            self._unauthorized("AKV10032: Invalid or expired token.")
        return self.vault.handle(req)

    def _unauthorized(self, message: str) -> None:
        self.stats.add("unauthorized")
        raise VaultError(401, "Unauthorized", message,
                         headers={"WWW-Authenticate": challenge_header(self.creds.tenant_id)})

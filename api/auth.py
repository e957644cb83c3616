"""API-key authentication, per-key rate limits and key permissions for every route.

``install_auth(app)`` adds a ``before_request`` hook (after ``api.request_log``'s, so every
answer carries a request id). With ``KVSIGNER_AUTH=required`` (the default):

* ``/healthz``, ``/readyz`` and ``/openapi.json`` are open; ``/status`` and ``/metrics`` are
  open only with ``KVSIGNER_OPEN_STATUS=true``; every other path, including unknown ones,
  needs ``Authorization: Bearer <key>``. A missing, malformed, unknown or revoked key gets
  401 ``unauthorized`` with ``WWW-Authenticate: Bearer``; the key itself is never echoed.
* A valid key is bound to ``worker.context.api_key`` (its name) and to
  ``worker.auth.policy.current_key``, then counted against its rate limit: 429
  ``rate_limited`` with ``Retry-After`` (whole seconds) past it.
* A read-only key gets 403 ``forbidden`` for any method but GET/HEAD/OPTIONS; on ``POST
  /rpc`` it may send read methods only (``policy.READ_METHODS``).
* A key limited to some senders gets 403 for ``POST /rpc`` signing methods naming another
  account and for cancelling another sender's transaction here; ``POST /transactions``
  and ``eth_sendTransaction`` are checked in ``worker.submit`` (``check_sender_allowed``).
* ``/ws`` (the WebSocket handshake) takes the key from the ``Authorization`` header only;
  every message on the open socket then passes the same checks as ``POST /rpc``
  (``api.rpc_ws.message_guard``), answered with a JSON-RPC error (``data.code``
  ``forbidden``) when refused.

With ``KVSIGNER_AUTH=off`` nothing is checked (local development only; a warning is logged).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from functools import cached_property

from flask import Flask, Response, current_app, request

from api import request_log
from api.context import EXTENSION as CONTEXT_EXTENSION
from api.context import ApiContext
from api.errors import error_response
from worker import context
from worker.auth import policy
from worker.auth.keys import ApiKey, ApiKeyStore, KnownKeys, record_key
from worker.auth.ratelimit import RateLimiter, retry_after
from worker.domain.errors import KvsignerError

log = logging.getLogger(__name__)

EXTENSION = "kvsigner.auth"
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json"})
STATUS_PATHS = frozenset({"/status", "/metrics"})
RPC_PATH = "/rpc"
CANCEL_ENDPOINT = "transactions.cancel"


@dataclass
class AuthState:
    """The app's key store and limiter, built on first use (creating the app makes no
    network call)."""

    ctx: ApiContext

    @cached_property
    def store(self) -> ApiKeyStore:
        return ApiKeyStore(self.ctx.services.redis)

    @cached_property
    def known(self) -> KnownKeys:
        return KnownKeys(self.store)

    @cached_property
    def limiter(self) -> RateLimiter:
        settings = self.ctx.services.settings
        return RateLimiter(self.ctx.services.redis, settings.api_rate_limit,
                           settings.api_rate_burst)

    def needs_key(self, path: str) -> bool:
        settings = self.ctx.services.settings
        if settings.auth == "off" or path in OPEN_PATHS:
            return False
        return not (path in STATUS_PATHS and settings.open_status)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _unauthorized(message: str) -> tuple[Response, int]:
    response, status = error_response("unauthorized", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="kvsigner"'
    return response, status


def _authenticate(state: AuthState) -> ApiKey | tuple[Response, int]:
    token = bearer_token(request.headers.get("Authorization"))
    key = state.known.match(token) if token else None
    if key is not None:
        return key
    return _refused(state, token is not None)


def _refused(state: AuthState, presented: bool) -> tuple[Response, int]:
    """The 401 for a request without a usable key (``presented``: it sent one)."""
    if not state.store.any():
        return _unauthorized("no API key exists yet: create one with `kvsigner apikey "
                             "create NAME` and send it as `Authorization: Bearer <key>`")
    if not presented:
        return _unauthorized("an API key is required: send `Authorization: Bearer <key>`")
    return _unauthorized("the API key is malformed, unknown or revoked")


def _rpc_payload() -> object:
    """The parsed ``/rpc`` body (``None`` when unreadable), leaving the body in place for
    the view: werkzeug's request stream can be read once, so it is replaced by a copy."""
    limit = current_app.extensions[CONTEXT_EXTENSION].services.settings.api_max_body_bytes
    try:
        body = request.stream.read(limit + 1)
    except Exception:  # too large or cut off: the view answers that itself
        return None
    request.stream = io.BytesIO(body)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _permission_error(state: AuthState, key: ApiKey) -> KvsignerError | None:
    """Why ``key`` may not make this request, or ``None``."""
    limited = key.read_only or bool(key.senders)
    if request.path == RPC_PATH and request.method == "POST":
        reason = policy.rpc_refusal(key, _rpc_payload()) if limited else None
        return policy.forbidden(reason) if reason else None
    if key.read_only and request.method not in policy.SAFE_HTTP_METHODS:
        return policy.forbidden(f"API key {key.name!r} is read-only")
    if key.senders and request.endpoint == CANCEL_ENDPOINT:
        tx_id = str((request.view_args or {}).get("tx_id", ""))
        record = state.ctx.services.store.get(tx_id) if tx_id else None
        if record is not None and not key.allows_sender(record.sender):
            return policy.forbidden(f"API key {key.name!r} may not act for {record.sender}")
    return None


def _check() -> tuple[Response, int] | None:
    state: AuthState = current_app.extensions[EXTENSION]
    if not state.needs_key(request.path):
        return None
    outcome = _authenticate(state)
    if not isinstance(outcome, ApiKey):
        return outcome
    key = outcome
    # One round trip: the key still exists (not revoked since this process read it) and
    # the request is within its rate.
    wait = state.limiter.admit(key.key_id, record_key(key.key_id))
    if wait is None:
        state.known.forget(key.key_id)
        return _refused(state, True)
    request_log.bind(context.api_key, key.name)
    request_log.bind(policy.current_key, key)
    if wait > 0:
        response, status = error_response(
            "rate_limited", f"API key {key.name!r} exceeded its rate limit; retry later")
        response.headers["Retry-After"] = str(retry_after(wait))
        return response, status
    refusal = _permission_error(state, key)
    if refusal is not None:
        return error_response(refusal.code, refusal.message)
    return None


def install_auth(app: Flask) -> None:
    """Install request ids, the access log and authentication on ``app``. Call once, after
    ``api.context.install`` (the hook reads the app's services)."""
    ctx: ApiContext = app.extensions[CONTEXT_EXTENSION]
    app.extensions[EXTENSION] = AuthState(ctx)
    request_log.install(app)
    app.before_request(_check)
    if ctx.services.settings.auth == "off":
        log.warning("KVSIGNER_AUTH=off: the API accepts every request without a key; use "
                    "this for local development only")

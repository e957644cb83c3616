"""The Key Vault keys API: list, get, create, import, update, sign and verify.

Requests reach here already authenticated. Every operation first counts against the quota
(``Faults.admit``); sign calls may also get an injected 429/5xx and added latency. Routes
(``name`` matched case-insensitively, an empty version meaning "latest"):

    GET   /keys                        list (maxresults 1-25, $skiptoken)
    GET   /keys/{name}/versions        list versions
    GET   /keys/{name}[/[{version}]]   get
    PUT   /keys/{name}                 import a JWK with d (a new version)
    PATCH /keys/{name}[/[{version}]]   update enabled and tags
    POST  /keys/{name}/create          create (EC or EC-HSM on P-256K or SECP256K1)
    POST  /keys/{name}/{version}/sign  sign; also /keys/{name}//sign
    POST  /keys/{name}/{version}/verify
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from . import render
from .ecdsa import NoncePool, sign_digest, verify_digest
from .errors import VaultError, bad_parameter, key_disabled
from .faults import Faults
from .keystore import CURVES, KeyStore, KeyVersion
from .messages import Request, Response, json_response
from .stats import Stats

MAX_RESULTS = 25


def _enabled(body: dict[str, Any]) -> bool | None:
    attrs = body.get("attributes") or {}
    if not isinstance(attrs, dict):
        raise bad_parameter("'attributes' must be an object.")
    enabled = attrs.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise bad_parameter("'attributes.enabled' must be a boolean.")
    return enabled


def _tags(body: dict[str, Any]) -> dict[str, str] | None:
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise bad_parameter("'tags' must be an object of string values.")
    return tags


class VaultApi:
    """Routes vault requests to the key store; see the module docstring for the routes."""

    def __init__(self, store: KeyStore, faults: Faults, stats: Stats) -> None:
        self.store = store
        self.faults = faults
        self.stats = stats
        self.nonces = NoncePool()
        self.nonces.top_up(self.nonces.target)

    def handle(self, req: Request) -> Response:
        """Serve one authenticated request; raises ``VaultError`` for error replies."""
        segs = req.segments
        method = req.method
        is_sign = method == "POST" and len(segs) == 4 and segs[3] == "sign"
        try:
            throttle = self.faults.admit()
            if throttle is not None:
                raise throttle
            if is_sign:
                response = self._sign(req, segs[1], segs[2])
                self.stats.add("signs_ok")
                return response
            return self._route(req, segs, method)
        except VaultError as exc:
            if exc.status == 429:
                self.stats.add("throttled")
            if is_sign:
                self.stats.add("signs_throttled" if exc.status == 429 else "signs_failed")
            raise

    def _route(self, req: Request, segs: list[str], method: str) -> Response:
        n = len(segs)
        if n == 1 and method == "GET":
            keys = self.store.latest_keys()
            return self._list(req, "/keys", keys, lambda k: k.name.lower(), versioned=False)
        if n == 3 and segs[2] == "versions" and method == "GET":
            versions = self.store.versions(segs[1])
            return self._list(req, f"/keys/{versions[0].name}/versions", versions,
                              lambda k: k.version, versioned=True)
        if n == 3 and segs[2] == "create" and method == "POST":
            return self._create(req, segs[1])
        if n == 2 and method == "PUT":
            return self._import(req, segs[1])
        if n == 4 and segs[3] == "verify" and method == "POST":
            return self._verify(req, segs[1], segs[2])
        if n in (2, 3) and method in ("GET", "PATCH"):
            version = segs[2] if n == 3 else ""
            if method == "GET":
                self.stats.add("gets")
                return self._bundle(req, self.store.get(segs[1], version))
            return self._update(req, segs[1], version)
        if n <= 4:
            raise VaultError(405, "MethodNotAllowed",
                             f"{method} {req.path} is not supported by the emulator.")
        raise VaultError(404, "NotFound", f"{req.path} is not an operation of this vault.")

    def _bundle(self, req: Request, key: KeyVersion) -> Response:
        return json_response(200, render.key_bundle(req.base_url, key))

    def _list(self, req: Request, path: str, items: list[KeyVersion],
              sort_key: Callable[[KeyVersion], str], versioned: bool) -> Response:
        self.stats.add("lists")
        raw = req.query.get("maxresults", str(MAX_RESULTS))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
            raise bad_parameter(f"maxresults must be between 1 and {MAX_RESULTS}.")
        size = int(raw)
        items = sorted(items, key=sort_key)
        token = req.query.get("$skiptoken")
        if token is None and self.faults.config.empty_first_page and items:
            page: list[KeyVersion] = []
            rest = items  # an empty page that still points onwards, as the service may send
        else:
            start = 0
            if token is not None:
                marker = render.decode_skip_token(token)
                start = bisect.bisect_right([sort_key(k) for k in items], marker)
            page, rest = items[start:start + size], items[start + size:]
        next_link = None
        if rest:
            marker = sort_key(page[-1]) if page else ""
            api = req.query.get("api-version", "7.4")
            next_link = (f"{req.base_url}{path}?api-version={api}&maxresults={size}"
                         f"&$skiptoken={render.encode_skip_token(marker)}")
        value = [render.key_item(req.base_url, k, versioned) for k in page]
        return json_response(200, {"value": value, "nextLink": next_link})

    def _create(self, req: Request, name: str) -> Response:
        body = req.json()
        kty, crv = body.get("kty"), body.get("crv")
        if crv not in CURVES:
            raise bad_parameter(f"The emulator creates only secp256k1 keys: crv must be one of "
                                f"{', '.join(CURVES)}, got {crv!r}.")
        key = self.store.add_version(name, ec.generate_private_key(ec.SECP256K1()), str(kty),
                                     str(crv), enabled=_enabled(body) is not False,
                                     tags=_tags(body))
        self.stats.add("creates")
        return self._bundle(req, key)

    def _import(self, req: Request, name: str) -> Response:
        body = req.json()
        jwk = body.get("key")
        if not isinstance(jwk, dict) or "d" not in jwk:
            raise bad_parameter("'key' must be a JWK that includes the private part 'd'.")
        crv = jwk.get("crv")
        if crv not in CURVES:
            raise bad_parameter(f"crv must be one of {', '.join(CURVES)}, got {crv!r}.")
        d = int.from_bytes(render.unb64url(jwk["d"], "key.d"), "big")
        try:
            private_key = ec.derive_private_key(d, ec.SECP256K1())
        except ValueError:
            raise bad_parameter("'key.d' is not a valid secp256k1 private key.") from None
        public = private_key.public_key().public_numbers()
        for coord, expected in (("x", public.x), ("y", public.y)):
            if coord in jwk and int.from_bytes(
                    render.unb64url(jwk[coord], f"key.{coord}"), "big") != expected:
                raise bad_parameter(f"'key.{coord}' does not match the private key.")
        kty = "EC-HSM" if body.get("Hsm") is True else str(jwk.get("kty", "EC"))
        key = self.store.add_version(name, private_key, kty, str(crv),
                                     enabled=_enabled(body) is not False, tags=_tags(body))
        self.stats.add("creates")
        return self._bundle(req, key)

    def _update(self, req: Request, name: str, version: str) -> Response:
        body = req.json()
        key = self.store.update(name, version, enabled=_enabled(body), tags=_tags(body))
        self.stats.add("updates")
        return self._bundle(req, key)

    def _operation_input(self, req: Request, name: str, version: str,
                         operation: str) -> tuple[KeyVersion, dict[str, Any], bytes]:
        """Body, key and digest of a sign/verify call, after the checks the service makes."""
        body = req.json()
        key = self.store.get(name, version)
        if not key.enabled:
            raise key_disabled(operation)
        alg = body.get("alg")
        if alg != key.algorithm:
            raise bad_parameter(f"Algorithm {alg!r} is not valid for a key on curve {key.crv}; "
                                f"use {key.algorithm}.")
        digest = render.unb64url(body.get("digest" if operation == "verify" else "value"),
                                 "digest" if operation == "verify" else "value")
        if len(digest) != 32:
            raise bad_parameter(f"Invalid length of the digest: expected 32 bytes for {alg}, "
                                f"got {len(digest)}.")
        return key, body, digest

    def _sign(self, req: Request, name: str, version: str) -> Response:
        fault = self.faults.sign_fault()
        if fault is not None:
            raise fault
        key, _, digest = self._operation_input(req, name, version, "sign")
        delay = self.faults.sign_delay()
        if delay > 0:
            time.sleep(delay)
        config = self.faults.config
        signature = sign_digest(key.private_key, digest, deterministic=config.deterministic,
                                high_s=config.high_s, nonces=self.nonces)
        response = json_response(200, {"kid": render.key_id(req.base_url, key),
                                       "value": render.b64url(signature)})
        response.after = self.nonces.top_up
        return response

    def _verify(self, req: Request, name: str, version: str) -> Response:
        key, body, digest = self._operation_input(req, name, version, "verify")
        signature = render.unb64url(body.get("value"), "value")
        valid = verify_digest(key.private_key.public_key(), digest, signature)
        return json_response(200, {"value": valid})

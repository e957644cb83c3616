"""JSON shapes of keys as Key Vault returns them (key bundles, list items, paging links)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import bad_parameter
from .keystore import KeyVersion

RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90
KEY_OPS = ["sign", "verify"]


def b64url(data: bytes) -> str:
    """base64url without padding, as used in JWKs and sign results."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: Any, what: str) -> bytes:
    """Decode base64url (padding optional); 400 BadParameter naming ``what`` otherwise."""
    if not isinstance(text, str):
        raise bad_parameter(f"'{what}' must be a base64url string.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise bad_parameter(f"'{what}' is not valid base64url.") from None


def key_id(base_url: str, key: KeyVersion, versioned: bool = True) -> str:
    """``https://{host}/keys/{name}[/{version}]``."""
    kid = f"{base_url}/keys/{key.name}"
    return f"{kid}/{key.version}" if versioned else kid


def attributes(key: KeyVersion) -> dict[str, Any]:
    return {"enabled": key.enabled, "created": key.created, "updated": key.updated,
            "recoveryLevel": RECOVERY_LEVEL, "recoverableDays": RECOVERABLE_DAYS,
            "exportable": False}


def _with_tags(value: dict[str, Any], key: KeyVersion) -> dict[str, Any]:
    # Like the service, "tags" is present only when the key has some.
    if key.tags:
        value["tags"] = dict(key.tags)
    return value


def key_bundle(base_url: str, key: KeyVersion) -> dict[str, Any]:
    """The body of get/create/import/update: the public JWK plus attributes and tags."""
    x, y = key.public_xy()
    jwk = {"kid": key_id(base_url, key), "kty": key.kty, "key_ops": list(KEY_OPS),
           "crv": key.crv, "x": b64url(x), "y": b64url(y)}
    return _with_tags({"key": jwk, "attributes": attributes(key)}, key)


def key_item(base_url: str, key: KeyVersion, versioned: bool) -> dict[str, Any]:
    """One entry of a listing: versionless ids for ``/keys``, versioned for ``/versions``."""
    return _with_tags({"kid": key_id(base_url, key, versioned), "attributes": attributes(key)},
                      key)


def encode_skip_token(marker: str) -> str:
    """An opaque, URL-safe continuation token (the SDK re-quotes nextLink queries, so a
    ``+`` or ``/`` would be mangled)."""
    return b64url(json.dumps({"after": marker}).encode())


def decode_skip_token(token: str) -> str:
    try:
        marker = json.loads(unb64url(token, "$skiptoken")).get("after")
    except (ValueError, AttributeError):
        marker = None
    if not isinstance(marker, str):
        raise bad_parameter("The $skiptoken is not valid.")
    return marker

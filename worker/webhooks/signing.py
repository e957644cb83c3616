"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A delivery carries ``webhook-id`` (the event id, the same on every retry so receivers can
drop duplicates), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the
base64-decoded ``whsec_`` secret. With several secrets (rotation) the header lists one
signature per secret, separated by spaces; receivers accept any that matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24


def generate_secret() -> str:
    """A new ``whsec_`` secret of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret. Raises ``ValueError`` (without quoting
    the secret) when it is not one or is shorter than 24 bytes."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret must start with whsec_")
    body = secret[len(PREFIX):]
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret must be whsec_ followed by base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"a webhook secret must hold at least {MIN_SECRET_BYTES} bytes")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(secrets_: Sequence[str], msg_id: str, body: bytes,
                 timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``. ``timestamp`` defaults to now.
    Raises ``ValueError`` for a malformed secret or when there is none."""
    if not secrets_:
        raise ValueError("no webhook secret to sign with")
    ts = int(time.time()) if timestamp is None else timestamp
    sigs = " ".join(signature(secret_key(s), msg_id, ts, body) for s in secrets_)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sigs}

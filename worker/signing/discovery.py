"""Key discovery: which vault keys are Ethereum accounts.

A key qualifies when it is an EC or EC-HSM key on secp256k1: curve ``P-256K`` (signs with
``ES256K``) or the legacy name ``SECP256K1`` (the service accepts only ``ECDSA256`` for
those). Other keys are skipped. ``KVSIGNER_VAULT_KEY_TAG`` narrows the set to keys carrying
a tag (``name``) or a tag with a value (``name=value``). Each account pins the latest
version seen at discovery time: a new key version is a new address.

Discovery issues one list call plus one GET per candidate key; callers cache its result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient, KeyVaultKey

from worker.domain.errors import VaultError
from worker.signing.base import VaultAccount
from worker.signing.secp256k1 import address_from_public_key, public_key_from_jwk
from worker.signing.vault_errors import classify

log = logging.getLogger(__name__)

EC_KEY_TYPES = frozenset({"EC", "EC-HSM"})
#: Curve name -> the signing algorithm the service accepts for it.
CURVE_ALGORITHMS: Mapping[str, str] = {"P-256K": "ES256K", "SECP256K1": "ECDSA256"}


@dataclass(frozen=True)
class DiscoveredKey:
    """A qualifying key version: its account, the fetched key and the signing algorithm."""

    account: VaultAccount
    key: KeyVaultKey
    algorithm: str


def parse_tag_filter(spec: str | None) -> tuple[str, str | None] | None:
    """``"env"`` -> ``("env", None)``; ``"env=prod"`` -> ``("env", "prod")``; empty -> None."""
    if spec is None or not spec.strip():
        return None
    name, sep, value = spec.partition("=")
    return name.strip(), (value.strip() if sep else None)


def tag_matches(tags: Mapping[str, str] | None, wanted: tuple[str, str | None] | None) -> bool:
    """True when there is no filter, or ``tags`` carries the tag (with the value if given)."""
    if wanted is None:
        return True
    name, value = wanted
    tags = tags or {}
    return name in tags and (value is None or tags[name] == value)


def _enum_value(value: object) -> str:
    # The SDK hands out (str, Enum) members whose str() is "Class.MEMBER" on Python 3.11+.
    return str(getattr(value, "value", value) or "")


def signing_algorithm(key_type: object, curve: object) -> str | None:
    """The algorithm for an EC key on secp256k1, or ``None`` if the key is not usable."""
    if _enum_value(key_type) not in EC_KEY_TYPES:
        return None
    return CURVE_ALGORITHMS.get(_enum_value(curve))


def to_discovered(key: KeyVaultKey) -> DiscoveredKey | None:
    """The account for ``key``, or ``None`` if it is not a secp256k1 EC key.

    Raises ``ValueError`` when the key claims secp256k1 but its public point is invalid.
    """
    # JsonWebKey sets its fields dynamically, hence getattr.
    jwk = key.key
    kty, crv = getattr(jwk, "kty", None), getattr(jwk, "crv", None)
    x, y = getattr(jwk, "x", None), getattr(jwk, "y", None)
    algorithm = signing_algorithm(kty, crv)
    if algorithm is None or x is None or y is None:
        return None
    public_key = public_key_from_jwk(bytes(x), bytes(y))
    props = key.properties
    account = VaultAccount(
        address=address_from_public_key(public_key),
        key_name=key.name,
        key_version=props.version or "",
        key_id=key.id,
        public_key=public_key,
        enabled=bool(props.enabled),
        curve=_enum_value(crv),
    )
    return DiscoveredKey(account=account, key=key, algorithm=algorithm)


def _fetch(client: KeyClient, name: str) -> KeyVaultKey | None:
    """The latest version of ``name``; ``None`` if it vanished or may not be read."""
    try:
        return client.get_key(name)
    except HttpResponseError as exc:
        failure = classify(exc, f"get key {name!r}")
        if failure is not None and failure.error.code in (
            "vault_key_not_found", "vault_key_disabled", "vault_forbidden",
        ):
            # Deleted between list and get, or a disabled key the service will not show:
            # neither can sign, so it is not an account; the rest of the vault still is.
            log.warning("skipping key: %s", failure.error.message)
            return None
        raise


def discover(client: KeyClient, tag_filter: str | None = None,
             redact: tuple[str, ...] = ()) -> list[DiscoveredKey]:
    """Every secp256k1 key of the vault (enabled or not), sorted by key name.

    Two keys with the same public key yield one account (the first by name). Raises
    ``VaultError`` (classified as in ``vault_errors``) when listing or reading fails for
    another reason than a vanished or unreadable key; strings in ``redact`` never appear in
    its message.
    """
    wanted = parse_tag_filter(tag_filter)
    found: dict[str, DiscoveredKey] = {}
    try:
        names = sorted(
            p.name for p in client.list_properties_of_keys() if tag_matches(p.tags, wanted)
        )
        for name in names:
            key = _fetch(client, name)
            if key is None or not tag_matches(key.properties.tags, wanted):
                continue
            try:
                item = to_discovered(key)
            except ValueError as exc:
                log.warning("skipping key %r: %s", name, exc)
                continue
            if item is None:
                continue
            address = item.account.address
            if address in found:
                log.warning("keys %r and %r hold the same key pair (%s); using %r",
                            found[address].account.key_name, name, address,
                            found[address].account.key_name)
                continue
            found[address] = item
    except VaultError:
        raise
    except Exception as exc:
        failure = classify(exc, "list vault keys", redact)
        if failure is None:
            raise
        raise failure.error from exc
    return sorted(found.values(), key=lambda d: d.account.key_name)

"""Keys, their versions and their persistence in the data directory.

Each key lives in ``DIR/keys/<name>.json`` (private scalars in hex, mode 0600), rewritten
atomically on every change, so keys survive restarts and a crash never leaves half a file.
Key names are matched case-insensitively, as in Key Vault; the newest version of a key is
its "latest". All methods are thread-safe.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .errors import bad_parameter, key_not_found
from .files import read_json, write_json_atomic

CURVE = "P-256K"
LEGACY_CURVE = "SECP256K1"  # reported by keys created with the 2016 API
CURVES = (CURVE, LEGACY_CURVE)
KEY_TYPES = ("EC", "EC-HSM")
NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
KEY_PREFIX = "kvsigner"


@dataclass
class KeyVersion:
    """One version of a key. ``enabled``, ``tags`` and ``updated`` change via the store."""

    name: str
    version: str
    kty: str
    crv: str
    private_key: ec.EllipticCurvePrivateKey
    enabled: bool = True
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        """The one signing algorithm the service accepts for this key's curve."""
        return "ES256K" if self.crv == CURVE else "ECDSA256"

    def public_xy(self) -> tuple[bytes, bytes]:
        numbers = self.private_key.public_key().public_numbers()
        return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")

    def to_record(self) -> dict[str, Any]:
        return {
            "version": self.version, "kty": self.kty, "crv": self.crv,
            "d": f"{self.private_key.private_numbers().private_value:064x}",
            "enabled": self.enabled, "created": self.created, "updated": self.updated,
            "tags": self.tags,
        }

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> KeyVersion:
        return cls(
            name=name, version=record["version"], kty=record["kty"], crv=record["crv"],
            private_key=ec.derive_private_key(int(record["d"], 16), ec.SECP256K1()),
            enabled=bool(record["enabled"]), created=int(record["created"]),
            updated=int(record["updated"]), tags=dict(record.get("tags") or {}),
        )


def check_name(name: str) -> None:
    """Raise 400 BadParameter unless ``name`` is a valid Key Vault object name."""
    if not NAME_PATTERN.match(name):
        raise bad_parameter(f"The key name '{name}' is invalid: use 1-127 letters, digits "
                            "and dashes.")


class KeyStore:
    """All keys of the emulated vault, backed by ``directory/keys``."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory / "keys"
        self._lock = threading.RLock()
        self._keys: dict[str, list[KeyVersion]] = {}  # lower-case name -> versions, oldest first
        self._load()

    def _load(self) -> None:
        if not self._dir.is_dir():
            return
        for path in sorted(self._dir.glob("*.json")):
            data = read_json(path)
            versions = [KeyVersion.from_record(data["name"], r) for r in data["versions"]]
            if versions:
                self._keys[data["name"].lower()] = versions

    def _save(self, versions: list[KeyVersion]) -> None:
        name = versions[0].name
        write_json_atomic(self._dir / f"{name.lower()}.json",
                          {"name": name, "versions": [v.to_record() for v in versions]})

    def ensure_keys(self, count: int, prefix: str = KEY_PREFIX) -> list[str]:
        """Make sure ``{prefix}-1`` .. ``{prefix}-{count}`` exist (EC-HSM, P-256K).

        Returns the names created now; existing keys are left as they are.
        """
        created = []
        for index in range(1, count + 1):
            name = f"{prefix}-{index}"
            with self._lock:
                if name.lower() in self._keys:
                    continue
                self.add_version(name, ec.generate_private_key(ec.SECP256K1()), "EC-HSM", CURVE)
            created.append(name)
        return created

    def add_version(self, name: str, private_key: ec.EllipticCurvePrivateKey, kty: str,
                    crv: str, enabled: bool = True,
                    tags: dict[str, str] | None = None) -> KeyVersion:
        """Create ``name`` or add a new latest version to it; persists before returning."""
        check_name(name)
        if kty not in KEY_TYPES:
            raise bad_parameter(f"Key type '{kty}' is not supported: use EC or EC-HSM.")
        if crv not in CURVES:
            raise bad_parameter(f"Curve '{crv}' is not supported: use {CURVE}.")
        with self._lock:
            versions = self._keys.get(name.lower(), [])
            shown = versions[0].name if versions else name
            key = KeyVersion(shown, uuid.uuid4().hex, kty, crv, private_key, enabled,
                             tags=dict(tags or {}))
            self._save([*versions, key])
            self._keys[name.lower()] = [*versions, key]
            return key

    def get(self, name: str, version: str = "") -> KeyVersion:
        """The given version, or the latest one when ``version`` is empty; 404 otherwise."""
        with self._lock:
            versions = self._keys.get(name.lower())
            if not versions:
                raise key_not_found(name, version)
            if not version:
                return versions[-1]
            for key in versions:
                if key.version == version.lower():
                    return key
        raise key_not_found(name, version)

    def latest_keys(self) -> list[KeyVersion]:
        """The latest version of every key, ordered by lower-case name."""
        with self._lock:
            return [self._keys[name][-1] for name in sorted(self._keys)]

    def versions(self, name: str) -> list[KeyVersion]:
        """All versions of ``name``, oldest first; 404 for an unknown key."""
        with self._lock:
            versions = self._keys.get(name.lower())
            if not versions:
                raise key_not_found(name)
            return list(versions)

    def update(self, name: str, version: str = "", enabled: bool | None = None,
               tags: dict[str, str] | None = None) -> KeyVersion:
        """Change a version's ``enabled`` flag and/or replace its tags (None: unchanged)."""
        with self._lock:
            key = self.get(name, version)
            if enabled is not None:
                key.enabled = enabled
            if tags is not None:
                key.tags = dict(tags)
            key.updated = int(time.time())
            self._save(self._keys[name.lower()])
            return key

    def set_enabled(self, name: str, enabled: bool, version: str | None = None) -> int:
        """Enable or disable one version, or all versions when ``version`` is None.

        Returns how many versions were changed to the new value.
        """
        with self._lock:
            targets = [self.get(name, version)] if version else self.versions(name)
            changed = 0
            for key in targets:
                if key.enabled != enabled:
                    key.enabled = enabled
                    key.updated = int(time.time())
                    changed += 1
            self._save(self._keys[name.lower()])
            return changed

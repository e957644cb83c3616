"""API keys in Redis: create, list, revoke and verify. Only a hash of each key is stored.

A key reads ``kvs_<id>_<secret>``: ``id`` is 12 hex characters that name the key's Redis
record (not secret; ``kvsigner apikey list`` shows it), ``secret`` is 32 random bytes in
URL-safe base64 (43 characters). A key is checked by loading the record of its id and
comparing the SHA-256 of the presented key with the stored one in constant time
(``hmac.compare_digest``).

Why one fast SHA-256 and not bcrypt/scrypt/argon2: slow, salted hashes exist to protect
*guessable* secrets such as passwords against offline guessing. A 256-bit random secret cannot
be guessed at any hashing speed, so a slow hash would add nothing but tens of milliseconds to
every API request. SHA-256 is one-way, so a copy of Redis yields no usable key. There is no
server-side pepper (an HMAC key): it would be one more secret to hand to every API process and
would protect nothing that SHA-256's preimage resistance does not already protect.

Redis layout (key names are stable; other processes read them)::

    kvsigner:apikey:names    hash  name -> id   (makes names unique)
    kvsigner:apikey:{id}     hash  name, hash, created, senders (JSON list), read_only (0/1)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from worker.domain.errors import KvsignerError
from worker.domain.requests import parse_address
from worker.lru import LruMap
from worker.setting_values import Secret
from worker.store.text import as_text

NAMES = "kvsigner:apikey:names"
KEY_RE = re.compile(r"^kvs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
#: Names appear in logs and records, so they are plain: letters, digits, ``.``, ``_``, ``-``.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CREATE_ATTEMPTS = 5


def record_key(key_id: str) -> str:
    return f"kvsigner:apikey:{key_id}"


def hash_key(key: str) -> str:
    """The stored form of ``key``: SHA-256, hex (see the module docstring for why)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyError(ValueError):
    """A key cannot be created as asked; the message says why (and never holds a secret)."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key's public facts: never its secret, nor its hash."""

    key_id: str
    name: str
    created: float
    senders: tuple[str, ...] = ()
    read_only: bool = False

    def allows_sender(self, address: str) -> bool:
        """Whether the key may act for ``address`` (a checksummed or any-case address).
        A key without a sender list may act for every account."""
        return not self.senders or address.lower() in {s.lower() for s in self.senders}

    def to_public(self) -> dict[str, Any]:
        """What ``kvsigner apikey list --json`` shows."""
        return {"name": self.name, "id": self.key_id,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
                "senders": list(self.senders), "readOnly": self.read_only}


def _from_fields(key_id: str, raw: Mapping[Any, Any]) -> ApiKey:
    fields = {as_text(k): as_text(v) for k, v in raw.items()}
    return ApiKey(key_id, fields["name"], float(fields["created"]),
                  tuple(json.loads(fields.get("senders", "[]"))),
                  fields.get("read_only") == "1")


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ApiKeyError("a key name is 1-64 characters of letters, digits, '.', '_' and "
                          "'-', starting with a letter or digit")
    return name


def normalise_senders(senders: Iterable[str]) -> tuple[str, ...]:
    """Checksummed, deduplicated addresses; raises ``ApiKeyError`` for a malformed one."""
    out: list[str] = []
    for raw in senders:
        try:
            address = parse_address(raw, "sender")
        except KvsignerError as exc:
            raise ApiKeyError(f"{raw!r} is not an address: {exc.message}") from None
        if address not in out:
            out.append(address)
    return tuple(out)


class ApiKeyStore:
    """The keys in one Redis. Thread-safe (each call is one or a few Redis commands)."""

    def __init__(self, client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
        self.r = client
        self.clock = clock

    def create(self, name: str, senders: Iterable[str] = (),
               read_only: bool = False) -> tuple[ApiKey, Secret]:
        """Store a new key named ``name`` and return it with its plaintext, which exists
        nowhere else: show it once. Raises ``ApiKeyError`` for a taken or malformed name or a
        malformed sender."""
        check_name(name)
        allowed = normalise_senders(senders)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        plaintext = f"kvs_{key_id}_{secret}"
        key = ApiKey(key_id, name, self.clock(), allowed, read_only)
        fields: dict[Any, str] = {
            "name": name, "hash": hash_key(plaintext), "created": repr(key.created),
            "senders": json.dumps(list(allowed)), "read_only": "1" if read_only else "0"}
        for _ in range(_CREATE_ATTEMPTS):
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    # WATCH makes "name is free" and "claim the name" one atomic step.
                    pipe.watch(NAMES)
                    if pipe.hexists(NAMES, name):
                        raise ApiKeyError(f"an API key named {name!r} exists already")
                    pipe.multi()
                    pipe.hset(NAMES, name, key_id)
                    pipe.hset(record_key(key_id), mapping=fields)
                    pipe.execute()
                    return key, Secret(plaintext)
                except redis.WatchError:
                    continue  # another key was created or revoked meanwhile: look again
        raise ApiKeyError("the key store is busy; try again")

    def list(self) -> list[ApiKey]:
        """Every key, oldest first."""
        ids = [as_text(v) for v in self.r.hvals(NAMES)]
        with self.r.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.hgetall(record_key(key_id))
            raws = pipe.execute() if ids else []
        keys = [_from_fields(key_id, raw) for key_id, raw in zip(ids, raws, strict=True) if raw]
        return sorted(keys, key=lambda k: (k.created, k.name))

    def revoke(self, name: str) -> bool:
        """Delete the key named ``name``; requests carrying it fail from now on. Returns
        whether it existed."""
        key_id = self.r.hget(NAMES, name)
        if key_id is None:
            return False
        with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(record_key(as_text(key_id)))
            pipe.hdel(NAMES, name)
            pipe.execute()
        return True

    def any(self) -> bool:
        """Whether at least one key exists."""
        return bool(self.r.hlen(NAMES))

    def verify(self, presented: str) -> ApiKey | None:
        """The key ``presented`` belongs to, or ``None`` when it is malformed, unknown or
        revoked. The secret part is compared in constant time; whether an *id* exists is not
        hidden (ids are not secret)."""
        found = self.lookup(presented)
        return None if found is None or not _same_hash(found[0], presented) else found[1]

    def lookup(self, presented: str) -> tuple[bytes, ApiKey] | None:
        """The stored hash and the key of ``presented``'s id, unchecked (``verify`` checks);
        None when malformed or unknown."""
        match = KEY_RE.match(presented)
        if match is None:
            return None
        key_id = match.group(1)
        raw = self.r.hgetall(record_key(key_id))
        if not raw:
            return None
        stored = raw.get(b"hash", raw.get("hash", b""))
        return (stored if isinstance(stored, bytes) else str(stored).encode(),
                _from_fields(key_id, raw))


class KnownKeys:
    """The keys one process has read, by id: stored hash and fields. A key never changes
    once created (revocation deletes it), so a repeated request is checked without reading
    its record again; whether it still exists is not known here: the caller confirms that in
    Redis (``RateLimiter.admit`` with the key's ``record_key``, in the rate limit's round
    trip) and calls ``forget`` when it does not."""

    def __init__(self, store: ApiKeyStore, size: int = 1024) -> None:
        self.store = store
        self._known: LruMap[str, tuple[bytes, ApiKey]] = LruMap(size)

    def match(self, presented: str) -> ApiKey | None:
        """The key ``presented`` belongs to (the secret compared in constant time), read
        from Redis the first time; None when malformed or unknown. A key returned may have
        been revoked since it was read."""
        match = KEY_RE.match(presented)
        if match is None:
            return None
        found = self._known.get(match.group(1))
        if found is None:
            found = self.store.lookup(presented)
            if found is None:
                return None
            self._known.put(match.group(1), found)
        return found[1] if _same_hash(found[0], presented) else None

    def forget(self, key_id: str) -> None:
        self._known.discard(key_id)


def _same_hash(stored: bytes, presented: str) -> bool:
    return hmac.compare_digest(stored, hash_key(presented).encode())

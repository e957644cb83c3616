"""``AzureKeyVaultSigner``: the ``DigestSigner`` whose keys live in Azure Key Vault.

Accounts come from discovery (``discovery.py``) and are cached with their public keys and
one ``CryptographyClient`` per key version, built from the fetched ``KeyVaultKey`` so that
only ``sign`` reaches the service: no GET, ever, on the signing path. The first access loads
the cache; once it is older than ``vault_refresh_seconds`` the next access starts a reload in
a background thread and goes on, like every other caller, with the previous snapshot: no
request waits for a listing (a list call and a read per key, seconds for a large vault). A
failed reload keeps the snapshot too and is retried after ``FAILED_REFRESH_DELAY`` seconds.
When the vault has just refused a cached key (disabled, deleted), the next access reloads at
once instead, so that it answers from the new list.

All clients share one HTTP transport (one connection pool, short timeouts from settings).
The SDK's own retries are off for signing, because ``retry.RetryPolicy`` decides them;
listing keys keeps a couple of SDK retries.

Thread safety: every public method may be called from any thread. Snapshots are immutable
and replaced atomically; reloads are serialised by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from eth_utils import is_hex_address

from worker.domain.errors import ValidationError, VaultError
from worker.http_env import http_environment
from worker.settings import Settings
from worker.signing.base import Signature, VaultAccount
from worker.signing.credentials import build_credential
from worker.signing.discovery import DiscoveredKey, discover
from worker.signing.retry import RetryPolicy
from worker.signing.secp256k1 import to_signature
from worker.signing.vault_errors import classify

log = logging.getLogger(__name__)

#: Seconds before a failed background reload is tried again (the old snapshot stays in use).
# A key seen disabled is looked up again at most this often (it may be enabled again).
DISABLED_RECHECK_SECONDS = 5.0
FAILED_REFRESH_DELAY = 30.0
#: SDK retries for list/get calls (idempotent GETs; not on the signing path).
DISCOVERY_SDK_RETRIES = 2


@dataclass(frozen=True)
class _Entry:
    account: VaultAccount
    client: CryptographyClient
    # ES256K, or ECDSA256 for legacy "SECP256K1" keys: not an enum member, but the SDK
    # sends the string as it is.
    algorithm: SignatureAlgorithm


@dataclass(frozen=True)
class _Snapshot:
    """Every discovered key version by lower-case address (disabled ones included)."""

    entries: dict[str, _Entry]


class AzureKeyVaultSigner:
    """Signs 32-byte digests with the secp256k1 keys of one vault.

    Construction makes no network call; the first ``accounts()``/``account()``/
    ``sign_digest()`` discovers the keys. Errors are ``KvsignerError`` subclasses with
    stable codes (see ``vault_errors``); their messages never carry tokens or secrets.
    """

    def __init__(
        self,
        settings: Settings,
        credential: TokenCredential | None = None,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        if not settings.vault_url:
            raise VaultError("vault_not_configured", "KVSIGNER_VAULT_URL is not set")
        self._settings = settings
        self._credential = credential if credential is not None else build_credential(settings)
        self._owns_credential = credential is None
        self._redact = tuple(s for s in (settings.azure_client_secret.reveal(),) if s)
        self._retry = retry or RetryPolicy(
            retries=settings.vault_sign_retries,
            cap=settings.vault_backoff_cap,
            classify=partial(classify, redact=self._redact),
        )
        self._clock = clock
        # Runs before every sign attempt, retries included (the shared vault rate limiter).
        self._before_call = before_call or (lambda: None)
        # The environment's proxy and CA settings are read once (worker.http_env), not on
        # every signature.
        http_env = http_environment(settings.vault_url)
        self._transport = RequestsTransport(
            connection_timeout=settings.vault_connect_timeout,
            read_timeout=settings.vault_read_timeout,
            connection_verify=settings.vault_ca_file or http_env.ca_file,
            use_env_settings=False,
        )
        self._client_options: dict[str, Any] = {
            "verify_challenge_resource": settings.vault_verify_challenge_resource,
            "transport": self._transport,
        }
        if http_env.proxies:
            self._client_options["proxies"] = http_env.proxies
        self._keys = KeyClient(
            settings.vault_url, self._credential,
            retry_total=DISCOVERY_SDK_RETRIES, **self._client_options,
        )
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._next_refresh = 0.0
        self._loaded_at = float("-inf")
        # The vault's refusals of cached keys, and how many of them the snapshot postdates:
        # while they differ the next access reloads before answering.
        self._refusals = 0
        self._refusals_loaded = 0
        self._closed = False

    @property
    def vault_url(self) -> str:
        return self._settings.vault_url

    # --- accounts ------------------------------------------------------------------------

    def accounts(self) -> list[VaultAccount]:
        """Every enabled account, sorted by key name. Raises ``VaultError`` only when no
        snapshot exists yet and discovery fails."""
        return [a for a in self.all_accounts() if a.enabled]

    def all_accounts(self) -> list[VaultAccount]:
        """Every secp256k1 key version found, disabled ones included (for operators)."""
        entries = self._current().entries.values()
        return sorted((e.account for e in entries), key=lambda a: a.key_name)

    def account(self, address: str) -> VaultAccount:
        """The enabled account for ``address`` (any case).

        Raises ``ValidationError(invalid_address)`` for a malformed address,
        ``ValidationError(unknown_account)`` when no key of the vault has it, and
        ``VaultError(vault_key_disabled)`` when its key is disabled.
        """
        return self._entry(address).account

    def refresh(self) -> list[VaultAccount]:
        """Reload the accounts from the vault now; raises ``VaultError`` if that fails."""
        with self._lock:
            self._load()
        return self.accounts()

    # --- signing -------------------------------------------------------------------------

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        """Sign exactly 32 bytes with ``address``'s key: low S, recid checked.

        Raises ``ValidationError(invalid_field)`` unless ``digest`` is 32 bytes, the errors
        of ``account()``, ``VaultError`` with a permanent code at once (auth, forbidden,
        key disabled/not found, bad request), ``VaultError(vault_throttled|
        vault_unavailable)`` (retryable) once the retries are spent, and
        ``SigningError(signature_invalid)`` if the vault's signature does not recover to
        the cached public key.
        """
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise ValidationError("invalid_field", "digest must be exactly 32 bytes")
        digest = bytes(digest)
        entry = self._entry(address)
        key = entry.account
        what = f"sign with key {key.key_name!r} version {key.key_version!r}"
        try:
            def attempt() -> Any:
                self._before_call()
                return entry.client.sign(entry.algorithm, digest)

            result = self._retry.run(attempt, what)
        except VaultError as exc:
            if exc.code in ("vault_key_disabled", "vault_key_not_found"):
                self._mark_stale()
            raise
        return to_signature(digest, bytes(result.signature), key.public_key)

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close connections (and the credential when this signer built it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._keys.close()  # closes the shared transport too
        close = getattr(self._credential, "close", None)
        if self._owns_credential and callable(close):
            close()

    def __enter__(self) -> AzureKeyVaultSigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------

    def _entry(self, address: str) -> _Entry:
        if not isinstance(address, str) or not is_hex_address(address):
            raise ValidationError("invalid_address", f"{address!r} is not a 20-byte hex address")
        entry = self._current().entries.get(address.lower())
        if entry is None:
            raise ValidationError(
                "unknown_account", f"{address} is not an account of the configured vault"
            )
        if not entry.account.enabled:
            entry = self._recheck_disabled(address, entry)
        if not entry.account.enabled:
            raise VaultError(
                "vault_key_disabled",
                f"the key {entry.account.key_name!r} of {entry.account.address} is disabled",
            )
        return entry

    def _recheck_disabled(self, address: str, entry: _Entry) -> _Entry:
        """A key cached as disabled may have been enabled again since: reload the key list
        (at most every ``DISABLED_RECHECK_SECONDS``, waiting for a reload under way) rather
        than refusing its account until the next scheduled refresh."""
        with self._lock:
            if self._clock() - self._loaded_at >= DISABLED_RECHECK_SECONDS:
                try:
                    self._load()
                except VaultError as exc:
                    log.warning("vault key recheck failed: %s", exc.message)
            snap = self._snapshot
        fresh = snap.entries.get(address.lower()) if snap is not None else None
        return fresh or entry

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is not None and self._clock() < self._next_refresh:
            return snap
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    self._load()
                assert self._snapshot is not None
                return self._snapshot
        # Due or stale: one thread reloads, the others go on with the previous snapshot.
        if not self._lock.acquire(blocking=False):
            return snap
        if self._refusals != self._refusals_loaded:
            try:
                self._reload_if_due(snap)
            finally:
                self._lock.release()
            return self._snapshot or snap
        try:
            threading.Thread(target=self._reload_in_background, args=(snap,),
                             name="kvsigner-vault-refresh", daemon=True).start()
        except BaseException:
            self._lock.release()
            raise
        return snap

    def _reload_if_due(self, snap: _Snapshot) -> None:
        """Reload unless another thread has just done so; a failure keeps ``snap`` and is
        retried later. Call with ``self._lock`` held."""
        if self._clock() < self._next_refresh:
            return
        try:
            self._load()
        except VaultError as exc:
            log.warning("vault key refresh failed, keeping %d cached accounts: %s",
                        len(snap.entries), exc.message)
            self._retry_refresh_later()

    def _reload_in_background(self, snap: _Snapshot) -> None:
        """The thread ``_current`` starts, holding ``self._lock`` for it."""
        try:
            if not self._closed:
                self._reload_if_due(snap)
        except Exception:  # anything but VaultError: only this thread sees it, so log it
            log.exception("vault key refresh failed, keeping %d cached accounts",
                          len(snap.entries))
            self._retry_refresh_later()
        finally:
            self._lock.release()

    def _retry_refresh_later(self) -> None:
        self._next_refresh = self._clock() + min(FAILED_REFRESH_DELAY,
                                                 self._settings.vault_refresh_seconds)

    def _load(self) -> None:
        """Discover keys and swap in a new snapshot. Call with ``self._lock`` held."""
        refusals = self._refusals  # a refusal during the listing may not be in it
        found = discover(self._keys, self._settings.vault_key_tag, self._redact)
        old = self._snapshot.entries if self._snapshot else {}
        entries: dict[str, _Entry] = {}
        for item in found:
            address = item.account.address.lower()
            previous = old.get(address)
            if previous is not None and previous.account.key_id == item.account.key_id:
                client = previous.client  # keep its warm token/challenge state
            else:
                client = self._crypto_client(item)
            entries[address] = _Entry(item.account, client,
                                      cast(SignatureAlgorithm, item.algorithm))
        self._snapshot = _Snapshot(entries)
        self._refusals_loaded = refusals
        self._loaded_at = self._clock()
        self._next_refresh = self._loaded_at + self._settings.vault_refresh_seconds
        if self._refusals != refusals:
            self._next_refresh = 0.0  # refused meanwhile: due again at once
        log.info("vault %s: %d accounts (%d enabled)", self._settings.vault_url, len(entries),
                 sum(1 for e in entries.values() if e.account.enabled))

    def _crypto_client(self, item: DiscoveredKey) -> CryptographyClient:
        # Built from the fetched KeyVaultKey: the client then knows the key material and
        # never issues a GET before signing. retry_total=0: RetryPolicy owns sign retries.
        return CryptographyClient(item.key, self._credential, retry_total=0,
                                  **self._client_options)

    def _mark_stale(self) -> None:
        """Reload on next access: the vault just said a cached key is gone or disabled."""
        self._refusals += 1
        self._next_refresh = 0.0

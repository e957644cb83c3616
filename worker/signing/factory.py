"""Builds the configured signer from settings (no network call until first use)."""

from __future__ import annotations

from collections.abc import Callable

from worker.domain.errors import VaultError
from worker.settings import Settings
from worker.signing.azure_key_vault import AzureKeyVaultSigner


def build_signer(settings: Settings,
                 before_call: Callable[[], None] | None = None) -> AzureKeyVaultSigner:
    """An ``AzureKeyVaultSigner`` for ``settings``.

    Raises ``VaultError(vault_not_configured)`` when KVSIGNER_VAULT_URL is empty and
    ``VaultError(vault_auth_failed)`` when the chosen credential mode lacks a variable.
    ``before_call`` runs before every vault sign attempt (the shared rate limiter). The
    caller owns the signer and should ``close()`` it.
    """
    if not settings.vault_url:
        raise VaultError("vault_not_configured",
                         "KVSIGNER_VAULT_URL is not set, so nothing can be signed")
    return AzureKeyVaultSigner(settings, before_call=before_call)

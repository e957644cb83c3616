"""Builds the Azure credential that authenticates kvsigner to Key Vault.

One function, ``build_credential(settings)``, chooses among the four modes of
``settings.azure_credential``. Values come from ``Settings`` (the only reader of the
environment), never from ``os.environ`` here. The credential's HTTP timeouts are short and
its retries few: azure-core's defaults (300 s timeouts, 10 retries) would hold a signing
worker for many minutes when the token endpoint is unreachable.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import (
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from worker.domain.errors import VaultError
from worker.settings import Settings

#: Retries of one token request; the sign loop above retries the whole call anyway.
TOKEN_RETRIES = 2


def _transport_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "connection_timeout": settings.vault_connect_timeout,
        "read_timeout": settings.vault_read_timeout,
        "retry_total": TOKEN_RETRIES,
    }
    if settings.vault_ca_file:
        options["connection_verify"] = settings.vault_ca_file
    return options


def _require(mode: str, **values: str | None) -> None:
    """Raise ``vault_auth_failed`` naming every missing variable (names only, no values)."""
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise VaultError(
            "vault_auth_failed",
            f"KVSIGNER_AZURE_CREDENTIAL={mode} needs {', '.join(missing)} to be set",
        )


def build_credential(settings: Settings) -> TokenCredential:
    """A credential for ``settings.azure_credential``.

    - ``client_secret``: ``ClientSecretCredential``; needs AZURE_TENANT_ID, AZURE_CLIENT_ID
      and AZURE_CLIENT_SECRET.
    - ``managed_identity``: ``ManagedIdentityCredential`` (user-assigned when
      AZURE_CLIENT_ID is set).
    - ``workload_identity``: ``WorkloadIdentityCredential``; needs AZURE_TENANT_ID,
      AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE.
    - ``default``: ``DefaultAzureCredential`` (its chain reads the standard variables).

    Raises ``VaultError(vault_auth_failed)`` naming the missing variable; the message never
    contains the secret. No network call is made here: tokens are fetched on first use.
    """
    mode = settings.azure_credential
    options = _transport_options(settings)
    authority = settings.azure_authority_host
    if mode == "client_secret":
        _require(
            mode,
            AZURE_TENANT_ID=settings.azure_tenant_id,
            AZURE_CLIENT_ID=settings.azure_client_id,
            AZURE_CLIENT_SECRET=settings.azure_client_secret.reveal(),
        )
        if authority:
            options["authority"] = authority
        return ClientSecretCredential(
            settings.azure_tenant_id,
            settings.azure_client_id,
            settings.azure_client_secret.reveal(),
            disable_instance_discovery=settings.azure_disable_instance_discovery,
            **options,
        )
    if mode == "managed_identity":
        return ManagedIdentityCredential(client_id=settings.azure_client_id or None, **options)
    if mode == "workload_identity":
        _require(
            mode,
            AZURE_TENANT_ID=settings.azure_tenant_id,
            AZURE_CLIENT_ID=settings.azure_client_id,
            AZURE_FEDERATED_TOKEN_FILE=settings.azure_federated_token_file,
        )
        if authority:
            options["authority"] = authority
        return WorkloadIdentityCredential(
            tenant_id=settings.azure_tenant_id,
            client_id=settings.azure_client_id,
            token_file_path=settings.azure_federated_token_file,
            disable_instance_discovery=settings.azure_disable_instance_discovery,
            **options,
        )
    if mode == "default":
        if authority:
            options["authority"] = authority
        if settings.azure_client_id:
            options["managed_identity_client_id"] = settings.azure_client_id
        if settings.azure_tenant_id:
            options["workload_identity_tenant_id"] = settings.azure_tenant_id
        return DefaultAzureCredential(**options)
    raise VaultError("vault_auth_failed", f"unknown KVSIGNER_AZURE_CREDENTIAL mode {mode!r}")

"""build_credential: the mode picks the credential class; missing variables are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity import (
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from worker.domain.errors import VaultError
from worker.setting_values import Secret
from worker.settings import Settings
from worker.signing.credentials import build_credential
from worker.signing.factory import build_signer

SECRET = "super-secret-value-7"
TENANT = "00000000-0000-0000-0000-000000000001"


def test_client_secret_mode(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    settings = Settings(azure_credential="client_secret", azure_tenant_id=TENANT,
                        azure_client_id="app", azure_client_secret=Secret(SECRET),
                        azure_authority_host="https://127.0.0.1:9999",
                        azure_disable_instance_discovery=True, vault_ca_file=str(ca))
    credential = build_credential(settings)
    assert isinstance(credential, ClientSecretCredential)


@pytest.mark.parametrize(("missing", "variable"), [
    ("azure_tenant_id", "AZURE_TENANT_ID"),
    ("azure_client_id", "AZURE_CLIENT_ID"),
    ("azure_client_secret", "AZURE_CLIENT_SECRET"),
])
def test_client_secret_mode_names_missing_variable(missing: str, variable: str) -> None:
    values: dict[str, object] = {"azure_tenant_id": TENANT, "azure_client_id": "app",
                                 "azure_client_secret": Secret(SECRET)}
    values[missing] = Secret("") if missing == "azure_client_secret" else ""
    settings = Settings(azure_credential="client_secret", **values)  # type: ignore[arg-type]
    with pytest.raises(VaultError) as info:
        build_credential(settings)
    assert info.value.code == "vault_auth_failed"
    assert variable in info.value.message
    assert SECRET not in info.value.message


def test_managed_identity_mode() -> None:
    credential = build_credential(Settings(azure_credential="managed_identity",
                                           azure_client_id="user-assigned-id"))
    assert isinstance(credential, ManagedIdentityCredential)


def test_workload_identity_mode(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("federated")
    settings = Settings(azure_credential="workload_identity", azure_tenant_id=TENANT,
                        azure_client_id="app", azure_federated_token_file=str(token_file))
    assert isinstance(build_credential(settings), WorkloadIdentityCredential)
    with pytest.raises(VaultError, match="AZURE_FEDERATED_TOKEN_FILE"):
        build_credential(settings.replace(azure_federated_token_file=None))


def test_default_mode() -> None:
    credential = build_credential(Settings(azure_credential="default", azure_client_id="id"))
    assert isinstance(credential, DefaultAzureCredential)


def test_build_signer_needs_a_vault_url() -> None:
    with pytest.raises(VaultError) as info:
        build_signer(Settings(vault_url=""))
    assert info.value.code == "vault_not_configured"
    assert "KVSIGNER_VAULT_URL" in info.value.message

"""Shared pieces of the Key Vault emulator tests: SDK clients for one emulator instance and
signature helpers (the fixtures are in this folder's conftest.py)."""


import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import (
    HttpResponseError,
)
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient, KeyVaultKey
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from ops.keyvault_emulator.admin import EmulatorAdmin

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ES256K = SignatureAlgorithm.es256_k


@dataclass
class Vault:
    """SDK clients for one emulator instance."""

    env: dict[str, str]
    credential: ClientSecretCredential
    keys: KeyClient
    admin: EmulatorAdmin

    @property
    def ca(self) -> str:
        return self.env["KVSIGNER_VAULT_CA_FILE"]

    @property
    def url(self) -> str:
        return self.env["KVSIGNER_VAULT_URL"]

    def crypto(self, key: KeyVaultKey, **kwargs: Any) -> CryptographyClient:
        return CryptographyClient(key, self.credential, verify_challenge_resource=False,
                                  connection_verify=self.ca, **kwargs)

    def token(self) -> str:
        return self.credential.get_token("https://vault.azure.net/.default").token


def connect(env: dict[str, str], secret: str | None = None, **kwargs: Any) -> Vault:
    ca = env["KVSIGNER_VAULT_CA_FILE"]
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], secret or env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"], disable_instance_discovery=True,
        connection_verify=ca)
    keys = KeyClient(env["KVSIGNER_VAULT_URL"], credential, verify_challenge_resource=False,
                     connection_verify=ca, **kwargs)
    return Vault(env, credential, keys, EmulatorAdmin(env))


def unique(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def digest_of(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "big")).digest()


def jwk(key: KeyVaultKey) -> Any:
    """The key's JsonWebKey (its fields are set dynamically, hence ``Any``)."""
    return key.key


def public_key(key: KeyVaultKey) -> ec.EllipticCurvePublicKey:
    x = int.from_bytes(jwk(key).x, "big")
    y = int.from_bytes(jwk(key).y, "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256K1()).public_key()


def verify_rs(key: KeyVaultKey, digest: bytes, signature: bytes) -> None:
    """Raise InvalidSignature unless ``r || s`` is valid for ``digest`` under ``key``."""
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public_key(key).verify(encode_dss_signature(r, s), digest,
                           ec.ECDSA(Prehashed(hashes.SHA256())))


def high_s(signature: bytes) -> bool:
    return int.from_bytes(signature[32:], "big") > N // 2


def error_body(exc: HttpResponseError) -> dict[str, Any]:
    response: Any = exc.response
    return dict(response.json()["error"])


def reply_headers(exc: HttpResponseError) -> Any:
    response: Any = exc.response
    return response.headers



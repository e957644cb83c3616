"""The emulator's own certificate authority and server certificate.

Bearer tokens are refused over plain HTTP by the Azure SDK, so the emulator speaks TLS.
``ensure_certificates`` creates (once) a CA in ``DIR/ca.pem`` and a server certificate
signed by it for ``localhost``, ``127.0.0.1``, ``::1`` and any extra names. Both are reused
on restart, so clients that trust ``ca.pem`` keep working; the server certificate alone is
re-issued when the requested names change or it nears expiry.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .files import write_atomic

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
_RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class CertificatePaths:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key")
    return key


def _create_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kvsigner Key Vault emulator CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_atomic(directory / "ca-key.pem", _pem_key(key))
    write_atomic(directory / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _server_cert_ok(path: Path, names: list[str]) -> bool:
    if not path.exists():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < _RENEW_BEFORE:
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san) == {_general_name(n) for n in names}


def _issue_server_cert(directory: Path, ca_cert: x509.Certificate,
                       ca_key: ec.EllipticCurvePrivateKey, names: list[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # Key first: a certificate on disk always has its key next to it.
    write_atomic(directory / "server-key.pem", _pem_key(key))
    write_atomic(directory / "server.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_certificates(directory: Path, extra_names: Iterable[str] = ()) -> CertificatePaths:
    """Create or reuse the CA and a server certificate covering the default and extra names."""
    names = list(dict.fromkeys([*DEFAULT_NAMES, *extra_names]))
    ca_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    fresh_ca = not (ca_path.exists() and ca_key_path.exists())
    if fresh_ca:
        ca_cert, ca_key = _create_ca(directory)
    else:
        ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
        ca_key = _load_key(ca_key_path)
    paths = CertificatePaths(ca_path, directory / "server.pem", directory / "server-key.pem")
    if (fresh_ca or not paths.server_key.exists()
            or not _server_cert_ok(paths.server_cert, names)):
        _issue_server_cert(directory, ca_cert, ca_key, names)
    return paths


def server_context(paths: CertificatePaths) -> ssl.SSLContext:
    """A TLS 1.2+ server context presenting the emulator's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(paths.server_cert), str(paths.server_key))
    return context

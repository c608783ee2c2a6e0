"""Certificates for TLS tests: CAs with any subject Name and the leaves they issue (EC keys)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.tls_probe import HOSTNAME

Key = ec.EllipticCurvePrivateKey
_NOW = datetime.now(UTC)
_NO_USAGE = dict.fromkeys(
    ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
     "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"),
    False,
)  # fmt: skip


def new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: x509.Name, issuer: x509.Name, key: Key) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - timedelta(hours=1))
        .not_valid_after(_NOW + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def ca_certificate(subject: x509.Name, key: Key) -> x509.Certificate:
    """A self-signed CA with exactly this subject Name (its attributes' string types kept)."""
    usage = x509.KeyUsage(**{**_NO_USAGE, "key_cert_sign": True, "crl_sign": True})
    return (
        _builder(subject, subject, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )


def leaf_certificate(issuer: x509.Name, issuer_key: Key, key: Key) -> x509.Certificate:
    """A server certificate for ``HOSTNAME`` naming ``issuer``, signed by ``issuer_key``."""
    usage = x509.KeyUsage(**{**_NO_USAGE, "digital_signature": True})
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
    return (
        _builder(x509.Name.from_rfc4514_string(f"CN={HOSTNAME}"), issuer, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOSTNAME)]), critical=False)
        .add_extension(authority, critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def subject_of(certificate: bytes) -> x509.Name:
    """The subject Name of a DER certificate, its attributes' string types kept."""
    with warnings.catch_warnings():
        # Some of certifi's roots have a serial number of 0, which RFC 5280 disallows and
        # cryptography warns about; only the Name is read here.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(certificate).subject


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def write_key(key: Key, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path

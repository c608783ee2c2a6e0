"""OpenSSL's subject-name hash in pure Python (``infra.x509_hash``), checked by OpenSSL itself.

For each Name, a CA with exactly that subject goes alone into a hashed directory, under the file
name computed here; a client context on that directory verifies a leaf the CA issued only if
OpenSSL, hashing the leaf's issuer name, looks for that very file. No hash is written down.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from infra.capath import pem_certificates
from infra.x509_hash import name_hash, subject_hash, subject_name
from tests.certificates import (
    Key,
    ca_certificate,
    leaf_certificate,
    new_key,
    pem,
    subject_of,
    write_key,
)
from tests.tls_probe import handshake, server_context

ROOTS = pem_certificates(Path(certifi.where()).read_text(encoding="utf-8"))
A, RDN = x509.NameAttribute, x509.RelativeDistinguishedName
CN, ORG, UNIT = NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME
COUNTRY, SERIAL, UNIQUE = (
    NameOID.COUNTRY_NAME,
    NameOID.SERIAL_NUMBER,
    NameOID.X500_UNIQUE_IDENTIFIER,
)
# Each branch of the canonical form, beyond what certifi's roots happen to use.
NAMES = {
    "empty": x509.Name([]),
    "whitespace-and-case": x509.Name([A(CN, "  Mixed\tCase \n\v\f\r  Inner   Runs  ")]),
    "only-whitespace": x509.Name([A(CN, "   ")]),
    "non-ascii-utf8": x509.Name([A(ORG, "ÄÖÜ Straße ÉCOLE", _ASN1Type.UTF8String)]),
    "bmp-string": x509.Name([A(CN, "Ünïcödé ÀÉ Straße", _ASN1Type.BMPString)]),
    "universal-string": x509.Name([A(CN, "Ünïcödé \U0001d518 X", _ASN1Type.UniversalString)]),
    "t61-string": x509.Name([A(CN, "T61 Ü Name", _ASN1Type.T61String)]),
    "ia5-email": x509.Name([A(COUNTRY, "DE"), A(NameOID.EMAIL_ADDRESS, "CA@Ex.COM")]),
    "numeric-string-kept": x509.Name([A(SERIAL, " 12  34 ", _ASN1Type.NumericString)]),
    "bit-string-kept": x509.Name([A(UNIQUE, b"\x00\x01", _ASN1Type.BitString), A(CN, "bits")]),
    "multi-valued-rdn": x509.Name([RDN([A(CN, "Zed"), A(ORG, "Alpha Org"), A(COUNTRY, "US")])]),
    # Trimmed, the CN's encoding is shorter than the O's: the canonical SET orders them anew.
    "multi-valued-rdn-reordered": x509.Name([RDN([A(CN, "Zed" + " " * 20), A(ORG, "Alpha Org")])]),
    "long-value": x509.Name([A(UNIT, "Long " * 60), A(CN, "long")]),
}


@dataclass(frozen=True)
class Keys:
    ca: Key
    leaf: Key
    leaf_file: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """One CA key and one leaf key for every CA: a subject differs, keys need not."""
    leaf = new_key()
    return Keys(new_key(), leaf, write_key(leaf, tmp_path_factory.mktemp("keys") / "leaf.key"))


def check_handshake(ca: x509.Certificate, file_name: str, keys: Keys, tmp_path: Path) -> None:
    """A client whose hashed directory holds ``ca`` alone, as ``file_name``, verifies a leaf
    that ``ca`` issued (raises ``ssl.SSLCertVerificationError`` otherwise)."""
    directory = tmp_path / "capath"
    directory.mkdir()
    (directory / file_name).write_bytes(pem(ca))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pem(leaf_certificate(ca.subject, keys.ca, keys.leaf)))
    client = ssl.create_default_context(capath=str(directory))
    handshake(client, server_context(str(leaf), str(keys.leaf_file)))


def ca_named_as(root: bytes, key: Key) -> x509.Certificate:
    """A CA whose subject Name is, byte for byte, ``root``'s."""
    ca = ca_certificate(subject_of(root), key)
    assert subject_name(ca.public_bytes(Encoding.DER)) == subject_name(root)
    return ca


def test_certifi_has_roots() -> None:
    assert len(ROOTS) > 100


@pytest.mark.parametrize("root", ROOTS, ids=[f"root{i:03}" for i in range(len(ROOTS))])
def test_every_certifi_root_is_found_by_its_hash(root: bytes, keys: Keys, tmp_path: Path) -> None:
    check_handshake(ca_named_as(root, keys.ca), f"{subject_hash(root)}.0", keys, tmp_path)


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_canonical_forms_are_found_by_their_hash(
    name: x509.Name, keys: Keys, tmp_path: Path
) -> None:
    ca = ca_certificate(name, keys.ca)
    check_handshake(ca, f"{name_hash(name.public_bytes())}.0", keys, tmp_path)


def test_a_wrongly_named_root_fails_the_handshake(keys: Keys, tmp_path: Path) -> None:
    ca = ca_named_as(ROOTS[0], keys.ca)
    other = subject_hash(ROOTS[1])
    assert other != subject_hash(ROOTS[0])
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        check_handshake(ca, f"{other}.0", keys, tmp_path)

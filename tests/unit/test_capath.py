"""A PEM bundle written as a hashed directory (``infra.capath``), read back by OpenSSL."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from infra.capath import pem_certificates, write_capath
from infra.x509_hash import name_hash
from tests.certificates import ca_certificate, leaf_certificate, new_key, pem, write_key
from tests.tls_probe import handshake, server_context

TWINS = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Twin Root")])
OTHER = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other Root")])


def test_equal_hashes_are_numbered_in_order_and_openssl_reads_every_one(tmp_path: Path) -> None:
    """Two roots with one subject (as after a re-keying) and a third: ``.0`` and ``.1`` in the
    bundle's order, and a leaf from either twin verifies against the directory."""
    keys = [new_key() for _ in range(3)]
    roots = [
        ca_certificate(name, key) for name, key in zip((TWINS, OTHER, TWINS), keys, strict=True)
    ]
    bundle = tmp_path / "cacert.pem"
    bundle.write_bytes(b"".join(b"\n# Label: a root\n" + pem(root) for root in roots))
    directory = tmp_path / "capath"

    names = write_capath(bundle, directory)

    twins, other = name_hash(TWINS.public_bytes()), name_hash(OTHER.public_bytes())
    assert names == [f"{twins}.0", f"{other}.0", f"{twins}.1"]
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)
    for name, root in zip(names, roots, strict=True):
        written = pem_certificates((directory / name).read_text())
        assert written == [root.public_bytes(Encoding.DER)]
    leaf_key = new_key()
    key_file = write_key(leaf_key, tmp_path / "leaf.key")
    for index in (0, 2):
        leaf = tmp_path / f"leaf{index}.pem"
        leaf.write_bytes(pem(leaf_certificate(TWINS, keys[index], leaf_key)))
        client = ssl.create_default_context(capath=str(directory))
        handshake(client, server_context(str(leaf), str(key_file)))


def test_pem_certificates_skips_what_is_between_blocks() -> None:
    root = ca_certificate(OTHER, new_key())
    text = f"# Issuer: x\n\n{pem(root).decode()}\n# trailing comment\n"
    assert pem_certificates(text) == [root.public_bytes(Encoding.DER)]
    assert pem_certificates("# no certificate\n") == []

"""A CA bundle as an OpenSSL hashed directory (``capath``), written as ``openssl rehash`` would.

OpenSSL given such a directory loads no root up front: at a handshake it reads only the files
named by the hash of the certificate's issuer name (``<hash>.0``, ``<hash>.1``, …).
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path

from infra.x509_hash import subject_hash

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.S)


def pem_certificates(text: str) -> list[bytes]:
    """The DER of each certificate in a PEM bundle, in order (comments between are skipped)."""
    return [ssl.PEM_cert_to_DER_cert(block) for block in _PEM_BLOCK.findall(text)]


def hashed_names(certificates: list[bytes]) -> list[str]:
    """Each certificate's file name: its subject hash and, among equal hashes, ``.0``, ``.1``
    … in the given order."""
    seen: dict[str, int] = {}
    names = []
    for certificate in certificates:
        digest = subject_hash(certificate)
        names.append(f"{digest}.{seen.get(digest, 0)}")
        seen[digest] = seen.get(digest, 0) + 1
    return names


def write_capath(cafile: Path, directory: Path) -> list[str]:
    """Write every root of the PEM bundle ``cafile`` into the new ``directory``, one PEM file
    per root under its hashed name; returns the names, in ``cafile``'s order."""
    certificates = pem_certificates(cafile.read_text(encoding="utf-8"))
    if not certificates:
        raise ValueError(f"no certificate in {cafile}")
    names = hashed_names(certificates)
    directory.mkdir()
    for name, certificate in zip(names, certificates, strict=True):
        (directory / name).write_text(ssl.DER_cert_to_PEM_cert(certificate), encoding="ascii")
    return names

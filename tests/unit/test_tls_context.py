"""The store's TLS context (``app.store.dynamodb.tls``) where no hashed directory ships: the
context httpx builds by default, roots and settings. The bundle's case: tests/infra."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from app.contract.certificates import CERTIFI_CAPATH
from app.store.dynamodb.tls import client_context
from infra.capath import pem_certificates, write_capath
from tests.certificates import ca_certificate, leaf_certificate, new_key, pem, write_key
from tests.tls_probe import handshake, server_context

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Local Test CA")])


def settings(context: ssl.SSLContext) -> tuple[object, ...]:
    return (
        context.protocol,
        context.verify_mode,
        context.check_hostname,
        context.verify_flags,
        context.options,
        context.minimum_version,
        context.maximum_version,
        context.cert_store_stats(),
        context.get_ca_certs(binary_form=True),
    )


@pytest.fixture
def no_ssl_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_hashed_directory_every_certifi_root_is_loaded(
    no_ssl_variables: pytest.MonkeyPatch,
) -> None:
    assert not (Path(certifi.where()).parent / CERTIFI_CAPATH).exists()  # this environment's
    roots = pem_certificates(Path(certifi.where()).read_text(encoding="utf-8"))
    context = client_context()
    assert context.cert_store_stats()["x509_ca"] == len(roots)
    assert settings(context) == settings(httpx.create_ssl_context())
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_ssl_cert_file_replaces_certifi_as_in_httpx(
    no_ssl_variables: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(pem(ca_certificate(CA_NAME, new_key())))
    no_ssl_variables.setenv("SSL_CERT_FILE", str(cafile))
    context = client_context()
    assert context.cert_store_stats()["x509_ca"] == 1
    assert settings(context) == settings(httpx.create_ssl_context())


def test_ssl_cert_dir_replaces_certifi_as_in_httpx(
    no_ssl_variables: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A hashed directory loads nothing up front; its root is read at the handshake."""
    ca_key, leaf_key = new_key(), new_key()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(pem(ca_certificate(CA_NAME, ca_key)))
    write_capath(bundle, tmp_path / "capath")
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pem(leaf_certificate(CA_NAME, ca_key, leaf_key)))
    no_ssl_variables.setenv("SSL_CERT_DIR", str(tmp_path / "capath"))

    context = client_context()

    assert context.cert_store_stats()["x509_ca"] == 0
    assert settings(context) == settings(httpx.create_ssl_context())
    handshake(context, server_context(str(leaf), str(write_key(leaf_key, tmp_path / "leaf.key"))))
    assert context.cert_store_stats()["x509_ca"] == 1

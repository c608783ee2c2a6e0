"""The TLS context of the store's HTTP client: certifi's roots, loaded no sooner than needed.

Loading all of certifi's ``cacert.pem`` costs tens of milliseconds of CPU at every cold start.
The Lambda bundle also carries the roots as an OpenSSL hashed directory (``certifi/capath``,
written by ``infra/asset.py``): given that, OpenSSL loads nothing up front and reads only the
root a handshake needs, when it needs it. Elsewhere the context is the one httpx builds by
default. httpx is not imported here: this runs at init, where every import counts.
"""

from __future__ import annotations

import os
import ssl

import certifi

from app.contract.certificates import CERTIFI_CAPATH


def client_context() -> ssl.SSLContext:
    """A verifying TLS client context (``ssl.create_default_context``) on certifi's roots.

    As ``httpx.create_ssl_context()`` does, ``SSL_CERT_FILE`` or else ``SSL_CERT_DIR``, when set,
    replaces certifi. Otherwise the roots come from the bundle's hashed directory when present,
    else from certifi's ``cacert.pem``.
    """
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    # The package's folder, beside cacert.pem: ``certifi.where()`` would import
    # importlib.resources at init for it (1.3 ms of CPU, measured), needed only without the
    # directory.
    capath = os.path.join(os.path.dirname(certifi.__file__), CERTIFI_CAPATH)
    if os.path.isdir(capath):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())

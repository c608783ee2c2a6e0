"""Where the Lambda bundle keeps certifi's roots as a hashed directory.

``infra/asset.py`` writes the directory; ``app.store.dynamodb.tls`` reads it.
"""

from __future__ import annotations

# Beside certifi's cacert.pem: one PEM file per root, named by its OpenSSL subject-name hash.
CERTIFI_CAPATH = "capath"

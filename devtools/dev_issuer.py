"""A development OIDC issuer: mints short-lived RS256 tokens for local runs, no cloud needed.

The signing key is generated on first use into the git-ignored ``var/dev-issuer/`` folder,
beside a JWKS file that ``IDENTITY_MODE=jwt`` (and the local gateway) read through
``JWT_JWKS_URL=file:var/dev-issuer/jwks.json``. Settings refuse a ``file:`` key set in Lambda
or a production stage, so this issuer can never be trusted by a deployed stack.

    python -m devtools.dev_issuer --sub alice   # prints a token valid for 15 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEV_ISSUER = "urn:orders:dev-issuer"
DEV_AUDIENCE = "orders-dev"
# Access tokens carry a scope, ID tokens none: `make gateway` and jwt mode require this one, as
# the stack's authorizer requires Cognito's (infra/auth.py).
DEV_SCOPE = "orders/api"
DEFAULT_FOLDER = Path("var/dev-issuer")
DEFAULT_TTL_SECONDS = 15 * 60


def signing_key(folder: Path = DEFAULT_FOLDER) -> tuple[rsa.RSAPrivateKey, str]:
    """The folder's RSA key and its kid, created (with the JWKS file) on first use."""
    key_file, jwks_file = folder / "signing-key.pem", folder / "jwks.json"
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        kid = uuid.uuid4().hex
        public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwks = {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}
        jwks_file.write_text(json.dumps(jwks, indent=2))
    loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise TypeError(f"{key_file} does not hold an RSA key")
    kid = json.loads(jwks_file.read_text())["keys"][0]["kid"]
    return loaded, kid


def mint(
    sub: str,
    *,
    ttl: int = DEFAULT_TTL_SECONDS,
    folder: Path = DEFAULT_FOLDER,
    scope: str | None = DEV_SCOPE,
) -> str:
    """A signed access token for ``sub`` from the development issuer (``scope=None``: a token
    without one, as an ID token is)."""
    key, kid = signing_key(folder)
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": sub, "iat": now, "exp": now + ttl
    }  # fmt: skip
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def env(folder: Path = DEFAULT_FOLDER) -> dict[str, str]:
    """The settings under which the app trusts this issuer."""
    return {
        "IDENTITY_MODE": "jwt",
        "JWT_ISSUER": DEV_ISSUER,
        "JWT_AUDIENCE": DEV_AUDIENCE,
        "JWT_SCOPES": DEV_SCOPE,
        "JWT_JWKS_URL": f"file:{folder / 'jwks.json'}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.dev_issuer", description="Mint a development bearer token."
    )
    parser.add_argument("--sub", required=True, help="the caller (owner) the token names")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="seconds valid")
    parser.add_argument(
        "--folder", type=Path, default=DEFAULT_FOLDER, help="the issuer's keys (%(default)s)"
    )
    args = parser.parse_args()
    print(mint(args.sub, ttl=args.ttl, folder=args.folder))


if __name__ == "__main__":
    main()

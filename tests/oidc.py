"""A throwaway OIDC issuer for tests: real keys, a JWKS served over real HTTP on a free port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "orders-client"


@dataclass
class LocalIssuer:
    """Signs tokens with keys it publishes at ``<url>/.well-known/jwks.json``."""

    url: str = ""
    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.publish("rsa-1", self.rsa_key, "RS256")
        self.publish("ec-1", self.ec_key, "ES256")

    def publish(self, kid: str, key: Any, alg: str) -> None:
        public = key.public_key()
        algorithm = RSAAlgorithm if alg.startswith(("RS", "PS")) else ECAlgorithm
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(public))
        self.published[kid] = {**jwk, "kid": kid, "alg": alg, "use": "sig"}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def token(
        self, *, kid: str = "rsa-1", alg: str = "RS256", key: Any = None, **claims: Any
    ) -> str:
        signing_key = (
            key if key is not None else (self.rsa_key if kid.startswith("rsa") else self.ec_key)
        )
        return jwt.encode(self.claims(**claims), signing_key, algorithm=alg, headers={"kid": kid})


@contextmanager
def serve_issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                body: dict[str, Any] = {
                    "issuer": issuer.url,
                    "jwks_uri": f"{issuer.url}/.well-known/jwks.json",
                }
            elif self.path == "/.well-known/jwks.json":
                body = {"keys": list(issuer.published.values())}
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()

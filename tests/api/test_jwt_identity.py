"""IDENTITY_MODE=jwt: bearer tokens verified against a real JWKS over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from app.aws_lambda.adapter import LambdaAdapter
from app.config import Settings
from app.main import create_app
from tests.aws_lambda.test_lambda_responses import TEA, at
from tests.oidc import AUDIENCE, LocalIssuer, serve_issuer
from tests.support import order_body

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with serve_issuer() as running:
        yield running


@pytest.fixture
async def jwt_app(issuer: LocalIssuer, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'o.db'}",
        greet_delay=0,
        identity_mode="jwt",
        jwt_issuer=issuer.url,
        jwt_audience=f"other-client, {AUDIENCE}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(jwt_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=jwt_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_rsa_and_ec_tokens_act_as_their_subject(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    alice = bearer(issuer.token(sub="alice"))
    bob = bearer(issuer.token(kid="ec-1", alg="ES256", sub="bob"))
    created = await http.post("/orders", json=order_body(), headers=alice)
    assert created.status_code == 201
    oid = created.json()["id"]
    assert (await http.get(f"/orders/{oid}", headers=alice)).status_code == 200
    assert (await http.get(f"/orders/{oid}", headers=bob)).status_code == 404
    assert (await http.get("/orders", headers=bob)).json() == {"orders": []}


async def test_cognito_access_token_audience_is_client_id(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    token = issuer.token(aud=None, client_id=AUDIENCE, token_use="access")
    assert (await http.get("/orders", headers=bearer(token))).status_code == 200


def _forge_none(issuer: LocalIssuer) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': 'rsa-1'})}.{part(issuer.claims())}."


def _hs256_with_public_key(issuer: LocalIssuer) -> str:
    pem = issuer.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}

    def part(obj: object) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=")

    import hashlib
    import hmac

    signing_input = part(header) + b"." + part(issuer.claims())
    signature = base64.urlsafe_b64encode(
        hmac.new(pem, signing_input, hashlib.sha256).digest()
    ).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def _bad_tokens(issuer: LocalIssuer) -> dict[str, str]:
    now = int(time.time())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "expired": issuer.token(exp=now - 120),
        "not yet valid": issuer.token(nbf=now + 120),
        "wrong issuer": issuer.token(iss="https://evil.example"),
        "wrong audience": issuer.token(aud="someone-else"),
        "no audience at all": issuer.token(aud=None),
        "bad signature": issuer.token(key=stranger),
        "unknown kid": issuer.token(kid="rsa-unknown", key=issuer.rsa_key),
        "alg none": _forge_none(issuer),
        "HS256 signed with the public key": _hs256_with_public_key(issuer),
        "missing sub": issuer.token(sub=None),
        "empty sub": issuer.token(sub=""),
        "missing exp": issuer.token(exp=None),
        "RS256 kid used with ES256": issuer.token(kid="rsa-1", alg="ES256", key=issuer.ec_key),
        "malformed": "not.a.jwt",
        "garbage": "x",
    }


BAD_CASES = list(_bad_tokens(LocalIssuer()).keys())


@pytest.mark.parametrize("case", BAD_CASES)
async def test_bad_tokens_are_401_invalid_token(
    http: httpx.AsyncClient, issuer: LocalIssuer, case: str
) -> None:
    token = _bad_tokens(issuer)[case]
    response = await http.post("/orders", json=order_body(), headers=bearer(token))
    assert response.status_code == 401, case
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {"detail": "Invalid bearer token"}
    good = bearer(issuer.token())
    assert (await http.get("/orders", headers=good)).json() == {"orders": []}


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="orders"'),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, 'Bearer error="invalid_request"'),
        ({"Authorization": "Bearer "}, 'Bearer error="invalid_request"'),
        ({"Authorization": "Bearer"}, 'Bearer error="invalid_request"'),
    ],
)
async def test_missing_or_malformed_authorization_is_401(
    http: httpx.AsyncClient, headers: dict[str, str], challenge: str
) -> None:
    response = await http.get("/orders", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert set(response.json()) == {"detail"}


async def test_public_routes_need_no_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/hi")).status_code == 200
    assert (await http.get("/health")).status_code == 200
    assert (await http.get("/openapi.json")).status_code == 200


async def test_leeway_accepts_slightly_expired_tokens(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    token = issuer.token(exp=int(time.time()) - 5)
    assert (await http.get("/orders", headers=bearer(token))).status_code == 200


async def test_jwks_is_fetched_once_and_unknown_kids_refresh_at_most_once(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    issuer.requests.clear()
    for _ in range(5):
        assert (await http.get("/orders", headers=bearer(issuer.token()))).status_code == 200
    unknown = issuer.token(kid="rsa-unknown", key=issuer.rsa_key)
    for _ in range(20):
        assert (await http.get("/orders", headers=bearer(unknown))).status_code == 401
    jwks_fetches = [p for p in issuer.requests if p.endswith("jwks.json")]
    assert len(jwks_fetches) == 1  # the first fetch; the forged kid is within the refresh window


async def test_rotated_key_is_picked_up(issuer: LocalIssuer, tmp_path: Path) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'r.db'}",
        identity_mode="jwt",
        jwt_issuer=issuer.url,
        jwt_audience=AUDIENCE,
        jwt_jwks_url=f"{issuer.url}/.well-known/jwks.json",
    )
    app = create_app(settings)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        issuer.publish("rsa-2", new_key, "RS256")
        try:
            token = issuer.token(kid="rsa-2", key=new_key)
            assert (await http.get("/orders", headers=bearer(token))).status_code == 200
        finally:
            issuer.published.pop("rsa-2")


async def test_unreachable_issuer_is_503_not_401(tmp_path: Path, issuer: LocalIssuer) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'u.db'}",
        identity_mode="jwt",
        jwt_issuer="http://127.0.0.1:9",
        jwt_audience=AUDIENCE,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/orders", headers=bearer(issuer.token()))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


def test_jwt_mode_requires_issuer_and_audience() -> None:
    with pytest.raises(ValueError, match="JWT_ISSUER"):
        Settings(identity_mode="jwt")


@pytest.mark.parametrize("env", [{"AWS_LAMBDA_FUNCTION_NAME": "orders"}, {"STAGE": "prod"}])
def test_dev_identity_is_refused_in_lambda_and_prod(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="IDENTITY_MODE=dev is refused"):
        Settings()


def test_tokens_from_the_test_issuer_decode() -> None:
    issuer = LocalIssuer(url="http://issuer")
    claims = jwt.decode(
        issuer.token(), issuer.rsa_key.public_key(), algorithms=["RS256"], audience=AUDIENCE
    )
    assert claims["sub"] == "alice"


# Subjects both identity modes must judge alike: the value, and whether it is a usable owner id.
SUBJECTS = [
    ("alice", True),
    ("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", True),
    ("ünïcødé 用户", True),
    ("a" * 256, True),
    ("", False),
    ("   ", False),
    ("\u3000\u2028", False),
    ("a" * 257, False),
    ("\ud800", False),  # a lone surrogate: no UTF-8 spelling, so no store can hold it
    ("a\ud800b", False),
    ("a\x00b", False),
    ("line\nbreak", False),
    ("\x7f", False),
]


@pytest.mark.parametrize(("sub", "usable"), SUBJECTS, ids=lambda v: repr(v)[:24])
async def test_jwt_and_gateway_modes_apply_one_rule_to_sub(
    http: httpx.AsyncClient, issuer: LocalIssuer, handler: LambdaAdapter, sub: str, usable: bool
) -> None:
    """A subject is usable in jwt mode exactly when API Gateway's claims carrying it are, and
    an unusable one is a 401 that stores nothing (never a 500)."""
    token = issuer.token(sub=sub)
    by_jwt = await http.post("/orders", json=order_body(), headers=bearer(token))
    event = at("http-api-v2", "POST", "/orders", sub=sub, body=TEA)
    by_gateway = await asyncio.to_thread(handler, event, None)  # its own loop, off this one
    assert (by_jwt.status_code, by_gateway["statusCode"]) == ((201, 201) if usable else (401, 401))
    if usable:
        listed = await http.get("/orders", headers=bearer(token))
        assert [o["id"] for o in listed.json()["orders"]] == [by_jwt.json()["id"]]
    else:
        assert by_jwt.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert by_gateway["headers"]["www-authenticate"] == "Bearer"

"""``make run`` serves the CORS policy of app/contract/cors.py from CORS_ORIGINS, and jwt mode
requires JWT_SCOPES as the stack's authorizer does (a token without one of them: 403)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.contract import cors
from app.main import create_app
from tests.oidc import AUDIENCE, LocalIssuer, serve_issuer
from tests.support import order_body

pytestmark = pytest.mark.anyio
ALLOWED = "http://app.example"
SCOPE = "orders/api"


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    with serve_issuer() as running:
        yield running


@pytest.fixture
async def http(issuer: LocalIssuer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'o.db'}",
        greet_delay=0,
        identity_mode="jwt",
        jwt_issuer=issuer.url,
        jwt_audience=AUDIENCE,
        jwt_scopes=f"other/scope, {SCOPE}",
        cors_origins=f"{ALLOWED}, http://second.example",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_preflight_answers_the_shared_policy(http: httpx.AsyncClient) -> None:
    headers = {
        "origin": ALLOWED,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, if-match, idempotency-key",
    }
    response = await http.options("/orders/x", headers=headers)  # no token needed
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert set(response.headers["access-control-allow-methods"].split(", ")) >= set(
        cors.ALLOW_METHODS
    )
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(cors.ALLOW_HEADERS) <= allowed
    assert response.headers["access-control-max-age"] == str(cors.MAX_AGE_SECONDS)
    refused = await http.options("/orders", headers={**headers, "origin": "http://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


async def test_answers_expose_the_contract_headers(
    http: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    token = issuer.token(sub="alice", scope=f"openid {SCOPE}")
    created = await http.post(
        "/orders", json=order_body(), headers={**bearer(token), "origin": ALLOWED}
    )
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == ALLOWED
    exposed = {h.strip() for h in created.headers["access-control-expose-headers"].split(",")}
    assert exposed == set(cors.EXPOSE_HEADERS)
    anonymous = await http.get("/orders", headers={"origin": ALLOWED})
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == ALLOWED  # the page sees why


async def test_without_cors_origins_there_are_no_cors_headers(tmp_path: Path) -> None:
    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'o.db'}", greet_delay=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health", headers={"origin": ALLOWED})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "claims",
    [
        {},  # an ID token has no scope
        {"scope": "openid profile"},
        {"scope": ""},
        {"scp": ["openid"]},
    ],
)
async def test_a_token_without_a_required_scope_is_403(
    http: httpx.AsyncClient, issuer: LocalIssuer, claims: dict[str, Any]
) -> None:
    response = await http.get("/orders", headers=bearer(issuer.token(sub="alice", **claims)))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("claims", [{"scope": SCOPE}, {"scp": [SCOPE]}, {"scp": "x other/scope"}])
async def test_one_required_scope_is_enough(
    http: httpx.AsyncClient, issuer: LocalIssuer, claims: dict[str, Any]
) -> None:
    response = await http.get("/orders", headers=bearer(issuer.token(sub="alice", **claims)))
    assert response.status_code == 200

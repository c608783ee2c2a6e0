"""GET /hi, GET /health and the documentation routes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.support import HeaderIdentity

pytestmark = pytest.mark.anyio


async def test_hi_greets(client: httpx.AsyncClient) -> None:
    response = await client.get("/hi")
    assert response.status_code == 200
    assert response.json() == "Hello, async FastAPI!"


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_hi_awaits_the_delay_without_blocking_the_loop(store_url: str) -> None:
    app = create_app(Settings(store_url=store_url, greet_delay=0.5), identity=HeaderIdentity())
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get("/hi") for _ in range(50)))
        elapsed = time.perf_counter() - started
    assert [r.json() for r in responses] == ["Hello, async FastAPI!"] * 50
    # Each request waited for the delay, and they waited together (not 50 x 0.5 s).
    assert 0.5 <= elapsed < 0.5 * 50 / 4


def test_greet_delay_defaults_to_3_seconds() -> None:
    assert Settings().greet_delay == 3


@pytest.mark.parametrize("value", ["-1", "abc", "26"])
def test_greet_delay_is_validated(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GREET_DELAY", value)
    with pytest.raises(ValueError, match="greet_delay"):
        Settings()


async def test_docs_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower()
    assert "url: 'openapi.json'" in docs.text  # relative: right under any mount point
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "CoffeeMesh Orders API"


async def test_readiness_on_sqlite_asks_the_store(tmp_path: Path) -> None:
    app = create_app(
        Settings(store_url=f"sqlite:///{tmp_path / 'o.db'}", greet_delay=0),
        identity=HeaderIdentity(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        async with app.router.lifespan_context(app):
            ready = await client.get("/health", params={"ready": "1"})
            assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
        closed = await client.get("/health", params={"ready": "1"})  # the store is closed
        assert (closed.status_code, closed.headers["retry-after"]) == (503, "1")
        assert (await client.get("/health")).status_code == 200

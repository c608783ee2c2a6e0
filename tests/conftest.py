"""Fixtures: an app per test on a fresh store, and clients that act as named users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from tests.support import TEST_USER_HEADER, HeaderIdentity

ClientFactory = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    kind: str = request.param
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    raise AssertionError(kind)


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(store_url=store_url, greet_delay=0)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, identity=HeaderIdentity())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[ClientFactory]:
    """``client_for("bob")`` is an HTTP client whose requests act as user bob."""
    opened: list[httpx.AsyncClient] = []

    def make(user: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={TEST_USER_HEADER: user},
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
def client(client_for: ClientFactory) -> httpx.AsyncClient:
    return client_for("alice")

"""Fixtures: an app per test on a fresh store, and clients that act as named users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.lambda_adapter import LambdaAdapter, build_handler
from app.main import create_app
from tests.lambda_transport import LambdaInvoker, LambdaTransport, PayloadVersion
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


TRANSPORTS = ["asgi", "lambda-v2", "lambda-v1"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """How requests reach the app: in-process ASGI, or the Lambda handler with HTTP API 2.0
    events or REST API 1.0 events (identity from the authorizer claims, as on AWS)."""
    kind: str = request.param
    return kind


@pytest.fixture
async def lambda_handler(settings: Settings) -> AsyncIterator[tuple[LambdaAdapter, LambdaInvoker]]:
    """The Lambda handler built from ``settings`` (identity from the gateway), on its own
    thread, as one execution environment runs it."""
    invoker = LambdaInvoker()
    gateway = settings.model_copy(update={"identity_mode": "gateway"})
    handler: LambdaAdapter = await invoker.run(build_handler, gateway)
    yield handler, invoker
    await invoker.run(handler.close)
    invoker.shutdown()


@pytest.fixture
def connect(
    transport: str, settings: Settings, request: pytest.FixtureRequest
) -> Callable[[], httpx.AsyncBaseTransport]:
    """A new httpx transport to the app under test, the kind ``transport`` names.

    Synchronous so that it may pick the async fixture it needs (``app`` or
    ``lambda_handler``); ``settings`` is named so their store parameters apply.
    """
    if transport == "asgi":
        app: FastAPI = request.getfixturevalue("app")
        return lambda: httpx.ASGITransport(app=app)
    handler, invoker = request.getfixturevalue("lambda_handler")
    version: PayloadVersion = "2.0" if transport == "lambda-v2" else "1.0"
    return lambda: LambdaTransport(handler, invoker, version=version)


@pytest.fixture
async def client_for(
    connect: Callable[[], httpx.AsyncBaseTransport],
) -> AsyncIterator[ClientFactory]:
    """``client_for("bob")`` is an HTTP client whose requests act as user bob."""
    opened: list[httpx.AsyncClient] = []

    def make(user: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=connect(), base_url="http://testserver", headers={TEST_USER_HEADER: user}
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
def client(client_for: ClientFactory) -> httpx.AsyncClient:
    return client_for("alice")

"""Fixtures: an app per test on a fresh store, and clients that act as named users."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.aws_lambda.adapter import LambdaAdapter
from app.aws_lambda.factory import build_handler
from app.config import Settings
from app.main import create_app
from tests.lambda_transport import LambdaInvoker, LambdaTransport, PayloadVersion
from tests.support import TEST_USER_HEADER, HeaderIdentity

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}

ClientFactory = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def aws_env() -> Iterator[dict[str, str]]:
    """Fake credentials and region in the standard AWS variables, for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
            patch.delenv(name, raising=False)
        yield FAKE_AWS_ENV


@pytest.fixture(scope="session")
def moto_endpoint(aws_env: dict[str, str]) -> Iterator[str]:
    """One moto server (real HTTP, DynamoDB API) per test session, on a free port."""
    from devtools.moto_server import SerializedMotoServer

    server = SerializedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


async def fresh_dynamodb_table(endpoint: str) -> str:
    """Create a new, empty table with the admin helper; return its store URL."""
    from app.store.dynamodb.admin import create_table
    from app.store.dynamodb.config import DynamoDBConfig

    url = f"dynamodb://orders-{uuid.uuid4().hex}?endpoint={endpoint}"
    # moto on a busy machine can take seconds to create a table: wait longer than the app does.
    config = replace(DynamoDBConfig.from_url(url), connect_timeout=20, read_timeout=20)
    assert await create_table(config)
    return url


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every store-backed test runs on SQLite and on DynamoDB (moto's server, fresh table)."""
    kind: str = request.param
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'orders.db'}"
    elif kind == "dynamodb":
        endpoint: str = request.getfixturevalue("moto_endpoint")
        url = await fresh_dynamodb_table(endpoint)
        yield url
        from app.store.dynamodb.admin import delete_table
        from app.store.dynamodb.config import DynamoDBConfig

        await delete_table(DynamoDBConfig.from_url(url))
    else:
        raise AssertionError(kind)


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(store_url=store_url, greet_delay=0)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app for ``settings`` (test users named in a header), started and later shut down."""
    application = create_app(settings, identity=HeaderIdentity())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with serving(settings) as application:
        yield application


TRANSPORTS = ["asgi", "lambda-v2", "lambda-v1"]
# The (store, transport) cells a test that uses both runs in: each store and each transport at
# least once, every Lambda payload version on the store it is deployed with. The store contract
# suite runs on both stores regardless. FULL_MATRIX=1 runs all six cells; TEST_CELLS (e.g.
# "sqlite-asgi", comma-separated) names the cells to run instead.
COVERING_CELLS = frozenset({("sqlite", "asgi"), ("dynamodb", "lambda-v2"), ("sqlite", "lambda-v1")})
TESTS = Path(__file__).resolve().parent
# The tiers (folders of tests/) whose every test is slow: they synthesize stacks, build bundles,
# start servers or runtime processes, wait out store budgets, fuzz or drive a browser. Marked
# `slow` here, and with `-m "not slow"` (`make check`) not even collected (importing CDK,
# schemathesis and Playwright costs each worker about 20 s). The one place slowness is decided.
SLOW_TIERS = frozenset({"infra", "runtime", "servers", "resilience", "e2e", "load"})


def _cells() -> frozenset[tuple[str, str]] | None:
    if os.environ.get("FULL_MATRIX") == "1":
        return None
    named = os.environ.get("TEST_CELLS")
    if not named:
        return COVERING_CELLS
    cells = {tuple(cell.strip().split("-", 1)) for cell in named.split(",") if cell.strip()}
    return frozenset((store, transport) for store, transport in cells)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m "not slow"``, skip the slow tiers' folders without importing them."""
    slow_tier = collection_path.parent == TESTS and collection_path.name in SLOW_TIERS
    if slow_tier and config.getoption("markexpr") == "not slow":
        return True
    return None


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with one group decided by path: every test under tests/infra/ runs
    on one worker, so the stacks are synthesized (and the asset staged) by one worker only.

    xdist 3.8 groups by an ``@group`` suffix it writes into each item's ``_nodeid``, which
    pytest 9 no longer reads: the marks alone would group nothing (pytest-xdist issue 1386, its
    fix still open). Hence this override of the scheduler's ``_split_scope``, through xdist's
    public hook for choosing a scheduler; drop it once loadgroup groups under pytest 9 again.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class InfraOnOneWorker(LoadGroupScheduling):  # type: ignore[misc]  # xdist is untyped
        def _split_scope(self, nodeid: str) -> str:
            return "infra" if nodeid.startswith("tests/infra/") else nodeid

    return InfraOnOneWorker(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the covering cells; mark the slow tiers' tests."""
    cells = _cells()
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        tier = Path(str(item.path)).relative_to(TESTS).parts[0]
        if tier in SLOW_TIERS:
            # tests/infra runs on one worker (pytest_xdist_make_scheduler); the others on any:
            # what runtime tests share (the asset, the runtime's environment) is built once,
            # under a lock, in var/.
            item.add_marker(pytest.mark.slow)
        params = getattr(item, "callspec", None)
        store = params.params.get("store_url") if params else None
        transport = params.params.get("transport") if params else None
        if cells is not None and store and transport and (store, transport) not in cells:
            drop.append(item)
        elif cells is not None and store and not transport and os.environ.get("TEST_CELLS"):
            # A store-only test runs on the stores the named cells use.
            (drop if store not in {s for s, _ in cells} else keep).append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """How requests reach the app: in-process ASGI, or the Lambda handler with HTTP API 2.0
    events or REST API 1.0 events (identity from the authorizer claims, as on AWS)."""
    kind: str = request.param
    return kind


@pytest.fixture
async def connect(
    transport: str, settings: Settings
) -> AsyncIterator[Callable[[], httpx.AsyncBaseTransport]]:
    """New httpx transports to the app under test, of the kind ``transport`` names.

    For the Lambda kinds, the handler is built from ``settings`` (identity from the gateway)
    and runs on its own thread, as one execution environment runs it; no ASGI app is built.
    """
    if transport == "asgi":
        # Built here, not via getfixturevalue("app"): anyio refuses to run an async fixture
        # from inside another one.
        async with serving(settings) as app:
            yield lambda: httpx.ASGITransport(app=app)
        return
    invoker = LambdaInvoker()
    gateway = settings.model_copy(update={"identity_mode": "gateway"})
    handler: LambdaAdapter = await invoker.run(build_handler, gateway)
    version: PayloadVersion = "2.0" if transport == "lambda-v2" else "1.0"
    try:
        yield lambda: LambdaTransport(handler, invoker, version=version)
    finally:
        await invoker.run(handler.close)
        invoker.shutdown()


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


@pytest.fixture(scope="module")
def handler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaAdapter]:
    """One Lambda handler per test module: gateway identity, SQLite, no greeting delay."""
    db = tmp_path_factory.mktemp("lambda") / "orders.db"
    adapter = build_handler(
        Settings(store_url=f"sqlite:///{db}", greet_delay=0, identity_mode="gateway")
    )
    yield adapter
    adapter.close()

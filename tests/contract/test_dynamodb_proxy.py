"""The DynamoDB store behind an HTTP proxy: ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` as a
user behind a corporate proxy sets them, over real sockets."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpcore
import pytest
from aiodynamo.http.types import Request, RequestFailed

from app.domain.orders import Order, OrderItem, Size, Status
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.proxies import proxied
from app.store.dynamodb.store import DynamoDBStore
from app.store.dynamodb.tls import client_context
from app.store.dynamodb.transport import Transport, connection_pool
from tests.conftest import fresh_dynamodb_table

pytestmark = pytest.mark.anyio

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
UNREACHABLE = "http://dynamodb.proxy-test.invalid:8000"  # resolves nowhere: only a proxy reaches it


class RecordingProxy:
    """An HTTP proxy that answers every request itself (an empty DynamoDB answer) and keeps the
    request lines and headers it was sent."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                line, *fields = head.split("\r\n")
                headers = {
                    name.lower(): value
                    for name, _, value in (field.partition(": ") for field in fields if field)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.seen.append((line, headers))
                if line.startswith("CONNECT "):  # no tunnel: refused, as a proxy's policy may
                    writer.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n"
                    b"content-length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RecordingProxy]:
    for name in PROXY_VARIABLES:  # only what each test sets
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    recording = RecordingProxy()
    server = await asyncio.start_server(recording.serve, "127.0.0.1", 0)
    recording.port = server.sockets[0].getsockname()[1]
    async with server:
        yield recording


async def opened(endpoint: str, table: str = "orders") -> DynamoDBStore:
    store = DynamoDBStore(DynamoDBConfig(table, "us-east-1", endpoint=endpoint))
    await store.open()
    return store


async def test_requests_go_through_http_proxy_with_its_credentials(
    proxy: RecordingProxy, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://alice:s%40cret@127.0.0.1:{proxy.port}")
    store = await opened(UNREACHABLE)
    try:
        assert await store.get("alice", uuid.uuid4()) is None  # the proxy's empty answer
    finally:
        await store.close()
    ((line, headers),) = proxy.seen
    assert line == f"POST {UNREACHABLE}/ HTTP/1.1"  # absolute form: a proxied request
    assert headers["x-amz-target"] == "DynamoDB_20120810.GetItem"
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"alice:s@cret").decode()


async def test_all_proxy_serves_any_scheme_and_no_proxy_goes_direct(
    proxy: RecordingProxy, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = (await fresh_dynamodb_table(moto_endpoint)).removeprefix("dynamodb://").split("?")[0]
    monkeypatch.setenv("ALL_PROXY", f"127.0.0.1:{proxy.port}")  # no scheme: http:// is meant
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    store = await opened(moto_endpoint, table)
    order = Order(
        id=uuid.uuid4(),
        owner="alice",
        created=datetime.now(UTC),
        status=Status.CREATED,
        items=(OrderItem(product="flat white", size=Size.SMALL, quantity=1),),
    )
    try:
        await store.add(order)
        assert await store.get("alice", order.id) == order  # moto's table, reached directly
    finally:
        await store.close()
    assert proxy.seen == []
    monkeypatch.setenv("NO_PROXY", "elsewhere.example")
    store = await opened(moto_endpoint, table)
    try:
        assert await store.get("alice", order.id) is None  # now the proxy answers
    finally:
        await store.close()
    assert [line for line, _ in proxy.seen] == [f"POST {moto_endpoint}/ HTTP/1.1"]


async def test_a_proxy_it_cannot_use_stops_the_startup_with_what_to_fix(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", f"socks5://127.0.0.1:{proxy.port}")
    with pytest.raises(ValueError, match=r"over http:// or https:// only; fix HTTPS_PROXY"):
        await opened(UNREACHABLE)


async def test_https_requests_tunnel_through_https_proxy_with_connect(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:pw@127.0.0.1:{proxy.port}")
    tls = client_context()
    transport = Transport(proxied(connection_pool(tls), tls), connect=5.0, read=5.0)
    request = Request("POST", "https://dynamodb.proxy-test.invalid/", {}, b"{}")
    try:
        with pytest.raises(RequestFailed) as failed:  # this proxy refuses every tunnel
            await transport(request)
    finally:
        await transport.aclose()
    assert isinstance(failed.value.inner, httpcore.ProxyError)  # retried as "maybe applied"
    ((line, headers),) = proxy.seen
    assert line == "CONNECT dynamodb.proxy-test.invalid:443 HTTP/1.1"
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"bob:pw").decode()

"""Domain errors map to HTTP statuses in one table; nothing falls through as a bare exception."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import app.domain.idempotency  # noqa: F401 - defines DomainError subclasses of its own
from app.aws_lambda.adapter import LambdaAdapter
from app.config import Settings
from app.domain.orders import DomainError
from app.http.errors import DOMAIN_STATUS, register_error_handlers
from app.main import create_app
from app.server.cutoff import answer_cut_off_requests
from tests.support import order_body
from tests.test_lambda_responses import at

pytestmark = pytest.mark.anyio


def subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found = set(cls.__subclasses__())
    return found.union(*(subclasses(c) for c in found))


def test_every_domain_error_has_a_status() -> None:
    ours = {cls for cls in subclasses(DomainError) if cls.__module__.startswith("app.")}
    assert ours <= set(DOMAIN_STATUS)
    assert len(ours) >= 7  # app.domain.orders and app.domain.idempotency define them


async def test_an_unmapped_domain_error_is_a_plain_json_500() -> None:
    class Unmapped(DomainError):
        pass

    app = FastAPI()
    register_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise Unmapped("internal detail that must not leak")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def compact(document: object) -> bytes:
    """How the app serializes JSON (Starlette's JSONResponse): no spaces, UTF-8."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


async def test_every_error_body_is_serialized_alike(client: httpx.AsyncClient) -> None:
    created = await client.post("/orders", json=order_body())
    oid = created.json()["id"]
    await client.post(f"/orders/{oid}/cancel")
    answers = {
        400: await client.get("/orders", params={"cursor": "not-a-cursor"}),
        404: await client.get("/orders/00000000-0000-4000-8000-000000000000"),
        405: await client.patch(f"/orders/{oid}"),
        409: await client.post(f"/orders/{oid}/pay"),
        412: await client.post(f"/orders/{oid}/cancel", headers={"If-Match": '"999"'}),
        413: await client.post("/orders", content=b"x" * (64 * 1024 + 1)),
        422: await client.post("/orders", json={"order": []}),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.content == compact(response.json()), response.content


async def _raises(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        raise RuntimeError("boom")


async def _cancelled(scope: Scope, receive: Receive, send: Send) -> None:
    raise asyncio.CancelledError


def _asgi(app: ASGIApp, path: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    return asyncio.run(_request(app, path, body))


async def _request(app: ASGIApp, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.request("POST" if body else "GET", path, content=body)
    return response.status_code, dict(response.headers), response.content


def test_every_json_error_is_written_alike(tmp_path: Path) -> None:
    """The app's errors, the body limit's, the Lambda adapter's and the drain cut-off's: one
    encoding (byte for byte what the app's JSON responses use), a content type and a length."""
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'orders.db'}", max_body_bytes=10)
    answers = [
        _asgi(create_app(settings), "/nowhere"),  # the app's 404
        _asgi(create_app(settings), "/orders", b"x" * 11),  # the body limit's 413
        _asgi(answer_cut_off_requests(_cancelled), "/x"),  # the drain's 503
    ]
    adapter = LambdaAdapter(_raises)
    try:
        for event in (at("http-api-v2", "GET", "/x"), {"version": "2.0", "rawPath": "/"}):
            proxy = adapter(event, None)  # the guard's 500, a bad event's 400
            answers.append((proxy["statusCode"], proxy["headers"], proxy["body"].encode()))
    finally:
        adapter.close()
    assert [status for status, _, _ in answers] == [404, 413, 503, 500, 400]
    for _, headers, body in answers:
        detail = json.loads(body)["detail"]
        assert body == compact({"detail": detail}) == JSONResponse({"detail": detail}).body
        assert headers["content-type"] == "application/json"
    for _, headers, body in answers[:4]:  # the proxy response of a bad event has no length
        assert headers["content-length"] == str(len(body))

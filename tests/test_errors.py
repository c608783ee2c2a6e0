"""Domain errors map to HTTP statuses in one table; nothing falls through as a bare exception."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

import app.domain.idempotency  # noqa: F401 - defines DomainError subclasses of its own
from app.aws_lambda.adapter import error_response
from app.domain.orders import DomainError
from app.http.errors import DOMAIN_STATUS, register_error_handlers
from app.server.cutoff import CUT_OFF
from tests.support import order_body

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


def test_the_lambda_adapter_and_the_servers_cut_off_answer_alike() -> None:
    body = error_response({}, 500, "Internal Server Error")["body"]
    assert body.encode() == compact(json.loads(body))
    assert CUT_OFF.encode() == compact(json.loads(CUT_OFF))

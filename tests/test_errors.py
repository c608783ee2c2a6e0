"""Domain errors map to HTTP statuses in one table; nothing falls through as a bare exception."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

import app.domain.idempotency  # noqa: F401 - defines DomainError subclasses of its own
from app.domain.orders import DomainError
from app.errors import DOMAIN_STATUS, register_error_handlers

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

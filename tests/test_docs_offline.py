"""/docs needs no internet where the ``local`` extra is installed, and /redoc is not served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.http.routes.docs import ASSETS, local_assets
from app.main import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(store_url=f"sqlite:///{tmp_path / 'o.db'}", greet_delay=0))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def test_docs_load_swagger_ui_from_the_app_itself(client: httpx.AsyncClient) -> None:
    assert local_assets() is not None  # `make setup` installs the local extra
    page = await client.get("/docs")
    assert page.status_code == 200
    for name in ASSETS:
        assert f"docs?asset={name}" in page.text
    assert "cdn.jsdelivr.net" not in page.text
    for name, media_type in ASSETS.items():
        asset = await client.get("/docs", params={"asset": name})
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(media_type)
        assert len(asset.content) > 1000
        assert "max-age" in asset.headers["cache-control"]


@pytest.mark.parametrize("name", ["../core.py", "redoc.standalone.js", "", "x"])
async def test_only_swagger_uis_files_are_served(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get("/docs", params={"asset": name})
    assert response.status_code == 404


async def test_there_is_one_documentation_page(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404

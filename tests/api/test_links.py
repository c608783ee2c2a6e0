"""Location and Link: the app's own paths under the root path, percent-encoded, nothing else."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from app.config import Settings
from tests.conftest import serving
from tests.support import order_body

pytestmark = pytest.mark.anyio

# A URI reference in a header: no space, quote, angle bracket or anything outside ASCII.
URI_REFERENCE = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
ROOT = "/a b%>é"  # what an operator may pass as uvicorn's --root-path
ENCODED_ROOT = "/a%20b%25%3E%C3%A9"


@pytest.fixture
async def mounted(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'o.db'}", greet_delay=0)
    async with serving(settings) as app:
        transport = httpx.ASGITransport(app=app, root_path=ROOT)
        base = f"http://testserver{ENCODED_ROOT}"
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            yield client


async def test_location_and_link_percent_encode_the_root_path(
    mounted: httpx.AsyncClient,
) -> None:
    created = [await mounted.post("/orders", json=order_body()) for _ in range(2)]
    location = created[0].headers["location"]
    assert URI_REFERENCE.match(location), location
    assert location == f"{ENCODED_ROOT}/orders/{created[0].json()['id']}"
    assert (await mounted.get(location.removeprefix(ENCODED_ROOT))).status_code == 200

    listing = await mounted.get("/orders", params={"limit": 1, "x": '>"; rel="evil'})
    link = re.fullmatch(r'<(?P<url>[^<>]+)>; rel="next"', listing.headers["link"])
    assert link, listing.headers["link"]
    assert URI_REFERENCE.match(link["url"]), link["url"]
    url = urlsplit(link["url"])
    assert url.path == f"{ENCODED_ROOT}/orders"
    assert [k for k, _ in parse_qsl(url.query)] == ["limit", "cursor"]

"""Listing: newest first, filters, limits, Link headers and cursors."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory
from tests.support import order_body

pytestmark = pytest.mark.anyio

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


async def create_many(client: httpx.AsyncClient, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = await client.post("/orders", json=order_body(f"drink {i}"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


async def walk(client: httpx.AsyncClient, url: str) -> tuple[list[str], int]:
    """Follow rel=next links to the end; return the ids seen and the number of pages."""
    seen: list[str] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status_code == 200
        assert set(response.json()) == {"orders"}
        seen += [o["id"] for o in response.json()["orders"]]
        pages += 1
        link = response.headers.get("link")
        next_url = None if link is None else LINK.match(link)["url"]  # type: ignore[index]
        assert pages < 100
    return seen, pages


async def test_newest_first_without_link_when_everything_fits(client: httpx.AsyncClient) -> None:
    ids = await create_many(client, 3)
    response = await client.get("/orders")
    assert [o["id"] for o in response.json()["orders"]] == ids[::-1]
    assert "link" not in response.headers


async def test_default_limit_is_50(client: httpx.AsyncClient) -> None:
    await create_many(client, 51)
    response = await client.get("/orders")
    assert len(response.json()["orders"]) == 50
    assert "link" in response.headers


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
async def test_walking_every_page_sees_each_order_once(
    client: httpx.AsyncClient, limit: int
) -> None:
    ids = await create_many(client, 7)
    seen, pages = await walk(client, f"/orders?limit={limit}")
    assert seen == ids[::-1]
    assert pages == -(-7 // limit)


async def test_exact_multiple_ends_without_an_empty_extra_page(client: httpx.AsyncClient) -> None:
    await create_many(client, 4)
    first = await client.get("/orders?limit=2")
    second = await client.get(LINK.match(first.headers["link"])["url"])  # type: ignore[index]
    assert len(second.json()["orders"]) == 2
    assert "link" not in second.headers


async def test_link_keeps_filter_and_limit(client: httpx.AsyncClient) -> None:
    await create_many(client, 3)
    response = await client.get("/orders?limit=1&cancelled=false")
    url = httpx.URL(LINK.match(response.headers["link"])["url"])  # type: ignore[index]
    assert url.path == "/orders"
    assert url.params["limit"] == "1"
    assert url.params["cancelled"] == "false"
    assert url.params["cursor"]


async def test_new_orders_during_a_walk_cause_no_duplicates_or_gaps(
    client: httpx.AsyncClient,
) -> None:
    ids = await create_many(client, 6)
    seen: list[str] = []
    next_url: str | None = "/orders?limit=2"
    while next_url:
        response = await client.get(next_url)
        seen += [o["id"] for o in response.json()["orders"]]
        await create_many(client, 1)  # newer than everything being walked
        link = response.headers.get("link")
        next_url = None if link is None else LINK.match(link)["url"]  # type: ignore[index]
    assert seen == ids[::-1]


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
async def test_cancelled_filter_with_limits(client: httpx.AsyncClient, limit: int) -> None:
    ids = await create_many(client, 9)
    cancelled = ids[::3]
    for oid in cancelled:
        assert (await client.post(f"/orders/{oid}/cancel")).status_code == 200
    only_cancelled, _ = await walk(client, f"/orders?cancelled=true&limit={limit}")
    not_cancelled, _ = await walk(client, f"/orders?cancelled=false&limit={limit}")
    everything, _ = await walk(client, f"/orders?limit={limit}")
    assert only_cancelled == cancelled[::-1]
    assert not_cancelled == [i for i in ids[::-1] if i not in cancelled]
    assert everything == ids[::-1]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
async def test_limit_out_of_range_is_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(f"/orders?limit={limit}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_cancelled_must_be_a_boolean(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders?cancelled=maybe")
    assert response.status_code == 422


def _cursor_for(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!!!!!!!!!!!!!!!!!!!",
        "AAAAAAAAAAAAAAAAAAAAAA",  # 16 zero bytes: not a UUIDv7
        _cursor_for(uuid.UUID("2b3c9e3d-3ae1-40c8-9e9b-b4d292fe8a68").bytes),  # a UUIDv4
        _cursor_for(b"\x01" * 15),
        "AaIP01igdn-jjjvqqg9FhR",  # non-canonical last character
        "x" * 64,
    ],
)
async def test_forged_cursors_are_400(client: httpx.AsyncClient, cursor: str) -> None:
    await create_many(client, 2)
    response = await client.get("/orders", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid pagination cursor"}


async def test_overlong_cursor_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders", params={"cursor": "x" * 65})
    assert response.status_code == 422


async def test_another_users_cursor_never_reveals_their_orders(
    client_for: ClientFactory,
) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    alice_ids = await create_many(alice, 3)
    bob_ids = await create_many(bob, 2)
    first = await alice.get("/orders?limit=1")
    stolen: Any = LINK.match(first.headers["link"])["url"]  # type: ignore[index]
    response = await bob.get(stolen)
    assert response.status_code == 200
    returned = {o["id"] for o in response.json()["orders"]}
    assert returned <= set(bob_ids)
    assert not returned & set(alice_ids)

"""Optimistic concurrency: ETag on every order response, If-Match on every write (412)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.support import order_body

pytestmark = pytest.mark.anyio


async def created(client: httpx.AsyncClient) -> tuple[str, str]:
    response = await client.post("/orders", json=order_body("latte"))
    return response.json()["id"], response.headers["etag"]


async def test_every_order_response_carries_an_etag_that_changes_on_write(
    client: httpx.AsyncClient,
) -> None:
    oid, tag0 = await created(client)
    assert tag0 == '"1"'
    got = await client.get(f"/orders/{oid}")
    assert got.headers["etag"] == tag0
    replaced = await client.put(f"/orders/{oid}", json=order_body("mocha"))
    paid = await client.post(f"/orders/{oid}/pay")
    cancelled = await client.post(f"/orders/{oid}/cancel")
    tags = [tag0, replaced.headers["etag"], paid.headers["etag"], cancelled.headers["etag"]]
    assert len(set(tags)) == 4
    assert (await client.get(f"/orders/{oid}")).headers["etag"] == tags[-1]


async def write(client: httpx.AsyncClient, action: str, oid: str, tag: str) -> httpx.Response:
    headers = {"If-Match": tag}
    if action == "replace":
        return await client.put(f"/orders/{oid}", json=order_body("tea"), headers=headers)
    if action == "delete":
        return await client.delete(f"/orders/{oid}", headers=headers)
    return await client.post(f"/orders/{oid}/{action}", headers=headers)


@pytest.mark.parametrize("action", ["replace", "pay", "cancel", "delete"])
async def test_matching_if_match_applies(client: httpx.AsyncClient, action: str) -> None:
    oid, tag = await created(client)
    response = await write(client, action, oid, tag)
    assert response.status_code == (204 if action == "delete" else 200)


@pytest.mark.parametrize("action", ["replace", "pay", "cancel", "delete"])
@pytest.mark.parametrize("stale", ['"2"', 'W/"1"', '"x"', "garbage", '"2", "3"', ""])
async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, action: str, stale: str
) -> None:
    oid, _ = await created(client)
    before = await client.get(f"/orders/{oid}")
    response = await write(client, action, oid, stale)
    assert response.status_code == 412
    assert response.json() == {"detail": f"Order {oid} does not match If-Match; fetch it again"}
    after = await client.get(f"/orders/{oid}")
    assert (after.json(), after.headers["etag"]) == (before.json(), before.headers["etag"])


@pytest.mark.parametrize("tags", ["*", '"1", "7"', ' "9" , "1"'])
async def test_star_and_lists_match(client: httpx.AsyncClient, tags: str) -> None:
    oid, _ = await created(client)
    assert (await write(client, "pay", oid, tags)).status_code == 200


async def test_if_match_on_a_missing_order_is_404(client: httpx.AsyncClient) -> None:
    missing = "01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f"
    for tag in ('"1"', "garbage", '"1", "2"'):
        assert (await write(client, "pay", missing, tag)).status_code == 404


async def test_precondition_is_checked_before_the_state_machine(
    client: httpx.AsyncClient,
) -> None:
    oid, tag = await created(client)
    await client.post(f"/orders/{oid}/cancel")
    # Stale tag and forbidden transition: the stale tag wins (412), as RFC 9110 orders them.
    assert (await write(client, "pay", oid, tag)).status_code == 412
    current = (await client.get(f"/orders/{oid}")).headers["etag"]
    assert (await write(client, "pay", oid, current)).status_code == 409


async def test_lost_update_is_prevented(client: httpx.AsyncClient) -> None:
    """Two clients read the same version; both try to replace it; only the first lands."""
    oid, _ = await created(client)
    tag_a = tag_b = (await client.get(f"/orders/{oid}")).headers["etag"]
    first = await client.put(
        f"/orders/{oid}", json=order_body("alice's edit"), headers={"If-Match": tag_a}
    )
    second = await client.put(
        f"/orders/{oid}", json=order_body("bob's edit"), headers={"If-Match": tag_b}
    )
    assert (first.status_code, second.status_code) == (200, 412)
    final: dict[str, Any] = (await client.get(f"/orders/{oid}")).json()
    assert [i["product"] for i in final["order"]] == ["alice's edit"]


async def test_concurrent_conditional_replaces_have_one_winner(
    client: httpx.AsyncClient,
) -> None:
    oid, tag = await created(client)
    responses = await asyncio.gather(
        *(
            client.put(f"/orders/{oid}", json=order_body(f"edit {i}"), headers={"If-Match": tag})
            for i in range(30)
        )
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 412: 29}
    winner = next(r for r in responses if r.status_code == 200).json()
    assert (await client.get(f"/orders/{oid}")).json() == winner

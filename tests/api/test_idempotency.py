"""Idempotency-Key on POST /orders and POST /orders/{id}/pay."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.store import open_store
from app.store.claims import CLAIM_ATTEMPTS
from tests.conftest import ClientFactory
from tests.fakes import ControlledStore
from tests.support import HeaderIdentity, order_body

pytestmark = pytest.mark.anyio


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def count_orders(client: httpx.AsyncClient) -> int:
    return len((await client.get("/orders", params={"limit": 100})).json()["orders"])


async def test_a_retried_create_returns_the_first_answer(client: httpx.AsyncClient) -> None:
    first = await client.post("/orders", json=order_body("latte"), headers=key("k-1"))
    again = await client.post("/orders", json=order_body("latte"), headers=key("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    for name in ("location", "etag"):
        assert again.headers[name] == first.headers[name]
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_orders(client) == 1


async def test_the_replay_is_the_first_answer_even_after_changes(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/orders", json=order_body(), headers=key("k-2"))
    await client.post(f"/orders/{first.json()['id']}/pay")
    again = await client.post("/orders", json=order_body(), headers=key("k-2"))
    assert again.json() == first.json()  # status "created", as first answered


async def test_same_key_different_body_is_422_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/orders", json=order_body("latte"), headers=key("k-3"))
    other = await client.post("/orders", json=order_body("mocha"), headers=key("k-3"))
    assert other.status_code == 422
    assert other.json() == {"detail": "Idempotency-Key was already used for a different request"}
    assert await count_orders(client) == 1


async def test_equivalent_bodies_share_a_key(client: httpx.AsyncClient) -> None:
    explicit = {"order": [{"product": "tea", "size": "big", "quantity": 1}]}
    implicit = {"order": [{"size": "big", "product": "tea"}]}
    first = await client.post("/orders", json=explicit, headers=key("k-4"))
    again = await client.post("/orders", json=implicit, headers=key("k-4"))
    assert again.json() == first.json()


async def test_keys_belong_to_their_owner(client_for: ClientFactory) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    mine = await alice.post("/orders", json=order_body(), headers=key("shared"))
    theirs = await bob.post("/orders", json=order_body(), headers=key("shared"))
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    other_body = await bob.post("/orders", json=order_body("x"), headers=key("shared"))
    assert other_body.status_code == 422  # bob's own key now, never alice's answer
    assert (await alice.get(f"/orders/{theirs.json()['id']}")).status_code == 404


async def test_a_retried_pay_replays_instead_of_409(client: httpx.AsyncClient) -> None:
    oid = (await client.post("/orders", json=order_body())).json()["id"]
    first = await client.post(f"/orders/{oid}/pay", headers=key("pay-1"))
    again = await client.post(f"/orders/{oid}/pay", headers=key("pay-1"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (await client.post(f"/orders/{oid}/pay")).status_code == 409  # without the key


async def test_pay_key_reused_for_another_order_is_422(client: httpx.AsyncClient) -> None:
    a = (await client.post("/orders", json=order_body())).json()["id"]
    b = (await client.post("/orders", json=order_body())).json()["id"]
    await client.post(f"/orders/{a}/pay", headers=key("pay-2"))
    response = await client.post(f"/orders/{b}/pay", headers=key("pay-2"))
    assert response.status_code == 422
    assert (await client.get(f"/orders/{b}")).json()["status"] == "created"


async def test_a_failed_pay_does_not_keep_the_key(client: httpx.AsyncClient) -> None:
    oid = (await client.post("/orders", json=order_body())).json()["id"]
    await client.post(f"/orders/{oid}/cancel")
    assert (await client.post(f"/orders/{oid}/pay", headers=key("pay-3"))).status_code == 409
    assert (await client.post(f"/orders/{oid}/pay", headers=key("pay-3"))).status_code == 409


@pytest.mark.parametrize("bad", [b"", b"x" * 256, b"has space", "naïve".encode()])
async def test_malformed_keys_are_422(client: httpx.AsyncClient, bad: bytes) -> None:
    response = await client.post("/orders", json=order_body(), headers={b"Idempotency-Key": bad})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await count_orders(client) == 0


async def test_twenty_concurrent_posts_with_one_key_create_one_order(
    client: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(
        *(client.post("/orders", json=order_body("rush"), headers=key("rush")) for _ in range(20))
    )
    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {201, 409}
    created = [r.json() for r in responses if r.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    assert await count_orders(client) == 1


@pytest.fixture
async def controlled(settings: Settings) -> AsyncIterator[tuple[FastAPI, ControlledStore]]:
    store = ControlledStore(open_store(settings.store_url))
    app = create_app(settings, store=store, identity=HeaderIdentity())
    async with app.router.lifespan_context(app):
        yield app, store


@pytest.fixture
async def controlled_client(
    controlled: tuple[FastAPI, ControlledStore],
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=controlled[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_a_5xx_first_attempt_does_not_poison_the_key(
    controlled: tuple[FastAPI, ControlledStore], controlled_client: httpx.AsyncClient
) -> None:
    _, store = controlled
    store.fail_next_adds = 1
    failed = await controlled_client.post("/orders", json=order_body(), headers=key("k-5"))
    assert failed.status_code == 503
    assert await count_orders(controlled_client) == 0
    retried = await controlled_client.post("/orders", json=order_body(), headers=key("k-5"))
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert await count_orders(controlled_client) == 1


async def test_a_key_that_changes_hands_while_claimed_is_claimed_again(
    controlled: tuple[FastAPI, ControlledStore], controlled_client: httpx.AsyncClient
) -> None:
    _, store = controlled
    store.lose_next_claims = CLAIM_ATTEMPTS - 1
    created = await controlled_client.post("/orders", json=order_body(), headers=key("k-6"))
    assert created.status_code == 201
    assert await count_orders(controlled_client) == 1


async def test_a_key_that_keeps_changing_hands_is_409_and_writes_nothing(
    controlled: tuple[FastAPI, ControlledStore], controlled_client: httpx.AsyncClient
) -> None:
    _, store = controlled
    store.lose_next_claims = CLAIM_ATTEMPTS
    busy = await controlled_client.post("/orders", json=order_body(), headers=key("k-7"))
    assert busy.status_code == 409
    assert busy.json()["detail"].startswith("A request with this Idempotency-Key is still")
    assert await count_orders(controlled_client) == 0
    retried = await controlled_client.post("/orders", json=order_body(), headers=key("k-7"))
    assert retried.status_code == 201


async def test_a_retry_while_the_first_is_in_flight_is_409(
    controlled: tuple[FastAPI, ControlledStore], controlled_client: httpx.AsyncClient
) -> None:
    _, store = controlled
    store.hold_adds = asyncio.Event()
    first_task = asyncio.create_task(
        controlled_client.post("/orders", json=order_body(), headers=key("k-6"))
    )
    await store.add_started.wait()
    second = await controlled_client.post("/orders", json=order_body(), headers=key("k-6"))
    assert second.status_code == 409
    assert "still being processed" in second.json()["detail"]
    store.hold_adds.set()
    first = await first_task
    assert first.status_code == 201
    third = await controlled_client.post("/orders", json=order_body(), headers=key("k-6"))
    body: dict[str, Any] = third.json()
    assert (third.status_code, body) == (201, first.json())

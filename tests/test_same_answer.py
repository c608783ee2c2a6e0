"""The same request gets the same answer on every transport (in-process ASGI, which hands on
header lines as uvicorn does; the Lambda handler with HTTP API 2.0 events, whose repeated
lines API Gateway has joined with commas, and with REST API 1.0 events), and an error body
echoes a bounded part of the request."""

from __future__ import annotations

import json

import httpx
import pytest

from app.http.errors import MAX_ECHO, MAX_ERRORS
from tests.support import order_body

pytestmark = pytest.mark.anyio


async def count_orders(client: httpx.AsyncClient) -> int:
    return len((await client.get("/orders", params={"limit": 100})).json()["orders"])


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param([("Idempotency-Key", "k-a"), ("Idempotency-Key", "k-b")], id="two-lines"),
        pytest.param([("Idempotency-Key", "k-a,k-b")], id="one-line-with-a-comma"),
    ],
)
async def test_two_idempotency_keys_are_422_and_create_nothing(
    client: httpx.AsyncClient, keys: list[tuple[str, str]]
) -> None:
    """Two lines and one line with a comma reach the app alike on API Gateway; a key is one."""
    response = await client.post("/orders", json=order_body(), headers=keys)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await count_orders(client) == 0


async def test_two_if_match_lines_accept_the_tags_of_both(client: httpx.AsyncClient) -> None:
    oid = (await client.post("/orders", json=order_body())).json()["id"]  # ETag "1"
    paid = await client.post(
        f"/orders/{oid}/pay", headers=[("If-Match", '"7"'), ("If-Match", '"1"')]
    )
    assert (paid.status_code, paid.headers["etag"]) == (200, '"2"')
    stale = [("If-Match", '"1"'), ("If-Match", '"7"')]
    assert (await client.post(f"/orders/{oid}/cancel", headers=stale)).status_code == 412


async def test_a_422_lists_at_most_twenty_errors_however_many_the_body_makes(
    client: httpx.AsyncClient,
) -> None:
    """A 64 KiB body with 7,000 unknown fields was answered with 7,000 errors (about 0.6 MB)."""
    fields = ",".join(f'"{i}":1' for i in range(7_000))
    body = '{"order":[{"product":"a","size":"big"}],' + fields + "}"
    assert len(body) < 65_536
    response = await client.post(
        "/orders", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert len(errors) == MAX_ERRORS + 1
    assert errors[0] == {
        "type": "extra_forbidden",
        "loc": ["body", "0"],
        "msg": "Extra inputs are not permitted",
    }
    assert errors[-1] == {
        "type": "too_many_errors",
        "loc": ["body"],
        "msg": "6980 more errors not listed",
    }
    assert len(response.content) < 4_096
    assert await count_orders(client) == 0


async def test_a_422_cuts_the_field_names_it_echoes(client: httpx.AsyncClient) -> None:
    name = "x" * 60_000
    body = json.dumps({"order": [{"product": "a", "size": "big", name: 1}]})
    response = await client.post(
        "/orders", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "order", 0, "x" * MAX_ECHO + "…"]
    assert len(response.content) < 512

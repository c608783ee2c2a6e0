"""The Orders HTTP contract, route by route and status code by status code."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.conftest import ClientFactory
from tests.support import order_body

pytestmark = pytest.mark.anyio

ORDER_KEYS = {"id", "created", "status", "order"}


async def create(client: httpx.AsyncClient, *products: str, **kw: Any) -> dict[str, Any]:
    response = await client.post("/orders", json=order_body(*products, **kw))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_returns_the_order_and_its_location(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json=order_body("cappuccino", size="big", quantity=3))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == ORDER_KEYS
    assert UUID(body["id"]).version == 7
    assert datetime.fromisoformat(body["created"]).tzinfo is not None
    assert body["status"] == "created"
    assert body["order"] == [{"product": "cappuccino", "size": "big", "quantity": 3}]
    assert response.headers["location"] == f"/orders/{body['id']}"
    assert response.headers["content-type"] == "application/json"


async def test_quantity_defaults_to_one(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"order": [{"product": "tea", "size": "small"}]})
    assert response.status_code == 201
    assert response.json()["order"][0]["quantity"] == 1


async def test_get_returns_what_create_returned(client: httpx.AsyncClient) -> None:
    created = await create(client, "mocha")
    response = await client.get(f"/orders/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_order_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f")
    assert response.status_code == 404
    assert response.json() == {"detail": "Order 01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f not found"}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/pay"), ("POST", "/cancel")],
)
async def test_order_id_must_be_a_uuid(client: httpx.AsyncClient, method: str, suffix: str) -> None:
    response = await client.request(
        method, f"/orders/not-a-uuid{suffix}", json=order_body() if method == "PUT" else None
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "order_id"]


async def test_replace_swaps_the_items_and_keeps_identity(client: httpx.AsyncClient) -> None:
    created = await create(client, "latte")
    response = await client.put(
        f"/orders/{created['id']}", json=order_body("flat white", "espresso", size="medium")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["created"] == created["created"]
    assert body["status"] == "created"
    assert [i["product"] for i in body["order"]] == ["flat white", "espresso"]
    assert (await client.get(f"/orders/{created['id']}")).json() == body


async def test_delete_answers_204_with_an_empty_body(client: httpx.AsyncClient) -> None:
    created = await create(client)
    response = await client.delete(f"/orders/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert (await client.get(f"/orders/{created['id']}")).status_code == 404
    assert (await client.delete(f"/orders/{created['id']}")).status_code == 404


# --- the state machine -------------------------------------------------------------------

ACTIONS = ("pay", "cancel", "replace")


async def act(client: httpx.AsyncClient, order_id: str, action: str) -> httpx.Response:
    if action == "replace":
        return await client.put(f"/orders/{order_id}", json=order_body("americano"))
    return await client.post(f"/orders/{order_id}/{action}")


async def order_in(client: httpx.AsyncClient, status: str) -> str:
    order_id: str = (await create(client))["id"]
    path = {
        "created": [],
        "paid": ["pay"],
        "cancelled": ["cancel"],
        "paid+cancelled": ["pay", "cancel"],
    }
    for step in path[status]:
        assert (await act(client, order_id, step)).status_code == 200
    return order_id


ALLOWED = {
    ("created", "pay"): "paid",
    ("created", "cancel"): "cancelled",
    ("created", "replace"): "created",
    ("paid", "cancel"): "cancelled",
}


@pytest.mark.parametrize("start", ["created", "paid", "cancelled", "paid+cancelled"])
@pytest.mark.parametrize("action", ACTIONS)
async def test_every_transition(client: httpx.AsyncClient, start: str, action: str) -> None:
    order_id = await order_in(client, start)
    before = (await client.get(f"/orders/{order_id}")).json()
    response = await act(client, order_id, action)
    current = start.split("+")[-1]
    if (current, action) in ALLOWED:
        assert response.status_code == 200
        assert response.json()["status"] == ALLOWED[(current, action)]
    else:
        assert response.status_code == 409
        assert response.json() == {"detail": f"Cannot {action} an order whose status is {current}"}
        assert (await client.get(f"/orders/{order_id}")).json() == before


@pytest.mark.parametrize("action", ACTIONS)
async def test_actions_on_a_missing_order_are_404(client: httpx.AsyncClient, action: str) -> None:
    response = await act(client, "01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f", action)
    assert response.status_code == 404


# --- validation ----------------------------------------------------------------------------

INVALID_BODIES: list[tuple[str, object, list[object]]] = [
    ("empty order", {"order": []}, ["body", "order"]),
    ("missing order", {}, ["body", "order"]),
    ("order not a list", {"order": "latte"}, ["body", "order"]),
    (
        "unknown top-level field",
        {"order": [{"product": "a", "size": "big"}], "x": 1},
        ["body", "x"],
    ),
    (
        "unknown item field",
        {"order": [{"product": "a", "size": "big", "milk": "oat"}]},
        ["body", "order", 0, "milk"],
    ),
    ("missing product", {"order": [{"size": "big"}]}, ["body", "order", 0, "product"]),
    ("empty product", {"order": [{"product": "", "size": "big"}]}, ["body", "order", 0, "product"]),
    (
        "blank product",
        {"order": [{"product": "   ", "size": "big"}]},
        ["body", "order", 0, "product"],
    ),
    (
        "product not a string",
        {"order": [{"product": 7, "size": "big"}]},
        ["body", "order", 0, "product"],
    ),
    ("missing size", {"order": [{"product": "a"}]}, ["body", "order", 0, "size"]),
    ("unknown size", {"order": [{"product": "a", "size": "huge"}]}, ["body", "order", 0, "size"]),
    (
        "zero quantity",
        {"order": [{"product": "a", "size": "big", "quantity": 0}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "negative quantity",
        {"order": [{"product": "a", "size": "big", "quantity": -1}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "huge quantity",
        {"order": [{"product": "a", "size": "big", "quantity": 1_000_001}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "fractional quantity",
        {"order": [{"product": "a", "size": "big", "quantity": 1.5}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "string quantity",
        {"order": [{"product": "a", "size": "big", "quantity": "2"}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "boolean quantity",
        {"order": [{"product": "a", "size": "big", "quantity": True}]},
        ["body", "order", 0, "quantity"],
    ),
    (
        "second item bad",
        {"order": [{"product": "a", "size": "big"}, {"product": "b", "size": "xl"}]},
        ["body", "order", 1, "size"],
    ),
    ("body is a list", [{"product": "a", "size": "big"}], ["body"]),
]


@pytest.mark.parametrize(
    ("case", "body", "loc"), INVALID_BODIES, ids=[c[0] for c in INVALID_BODIES]
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_invalid_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, case: str, body: object, loc: list[object], method: str
) -> None:
    existing = await create(client, "original")
    url = "/orders" if method == "POST" else f"/orders/{existing['id']}"
    response = await client.request(method, url, json=body)
    assert response.status_code == 422, case
    detail = response.json()["detail"]
    assert loc in [error["loc"] for error in detail], detail
    assert all({"type", "loc", "msg"} <= set(error) for error in detail)
    listing = (await client.get("/orders")).json()["orders"]
    assert listing == [existing]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"order": [',
        b"not json",
        b"",
        b'{"order": [{"product": "\xff\xfe", "size": "big"}]}',
        b"\xff",
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["truncated", "not-json", "empty", "invalid-utf8-in-string", "invalid-utf8", "too-deep"],
)
async def test_malformed_json_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/orders", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert (await client.get("/orders")).json() == {"orders": []}


ORDER_TEXT = json.dumps({"order": [{"product": "latte", "size": "big"}]})
NOT_UTF8_JSON_TEXT = {
    "utf-16": ORDER_TEXT.encode("utf-16"),  # with its byte order mark
    "utf-16-le": ORDER_TEXT.encode("utf-16-le"),
    "utf-16-be": ORDER_TEXT.encode("utf-16-be"),
    "utf-32": ORDER_TEXT.encode("utf-32"),
    "utf-32-le": ORDER_TEXT.encode("utf-32-le"),
    "utf-8-bom": b"\xef\xbb\xbf" + ORDER_TEXT.encode(),
}


@pytest.mark.parametrize("raw", NOT_UTF8_JSON_TEXT.values(), ids=NOT_UTF8_JSON_TEXT.keys())
@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_json_bodies_must_be_utf8_without_a_byte_order_mark(
    client: httpx.AsyncClient, raw: bytes, method: str
) -> None:
    """RFC 8259 §8.1: JSON text exchanged between systems is UTF-8, with no BOM added."""
    existing = await create(client, "original")
    url = "/orders" if method == "POST" else f"/orders/{existing['id']}"
    headers = {"content-type": "application/json"}
    response = await client.request(method, url, content=raw, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert (await client.get("/orders")).json()["orders"] == [existing]


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_integral_float_quantity_is_that_integer(
    client: httpx.AsyncClient, method: str
) -> None:
    """JSON Schema's ``integer`` admits 2.0 (JSON has one number type): it means 2."""
    existing = await create(client, "original")
    url = "/orders" if method == "POST" else f"/orders/{existing['id']}"
    body = {"order": [{"product": "a", "size": "big", "quantity": 2.0}]}
    response = await client.request(method, url, json=body)
    assert response.status_code in (200, 201)
    assert response.json()["order"] == [{"product": "a", "size": "big", "quantity": 2}]
    fetched = await client.get(f"/orders/{response.json()['id']}")
    assert fetched.json()["order"][0]["quantity"] == 2


PRODUCT_NAMES = [
    ("\x85", False),  # NEL: blank to Python and Rust regexes, not to ECMA-262's \s
    ("\ufeff", False),  # ZWNBSP: blank to ECMA-262's \s only
    ("\u3000\u2028\xa0", False),
    ("\x1c", False),  # a separator control, blank to Python's \s only
    ("\u200b", False),  # zero-width space: not White_Space, but invisible
    ("\u200b\u200c\u2060\u00ad\ufe0f", False),  # only default-ignorable characters
    ("\u3164", False),  # Hangul filler: a letter that renders as nothing
    ("\x00", False),
    ("latte\x00", False),
    ("a\x07b", False),
    ("tab\there", False),
    ("\x7f", False),
    ("mocha\x9b", False),  # a C1 control
    (" \x85 x ", False),
    (" x ", True),
    ("\U0001f469\u200d\U0001f373", True),  # woman cook: a ZWJ sequence
    ("\u2615\ufe0f", True),
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645", True),  # Persian, with a ZWNJ inside
]


@pytest.mark.parametrize(("product", "accepted"), PRODUCT_NAMES, ids=ascii)
async def test_product_names_follow_the_published_pattern(
    client: httpx.AsyncClient, product: str, accepted: bool
) -> None:
    """Control characters are refused anywhere and a name needs a visible character; what the
    app accepts is what its OpenAPI pattern says, whichever regex engine reads it."""
    response = await client.post("/orders", json={"order": [{"product": product, "size": "big"}]})
    assert response.status_code == (201 if accepted else 422), response.text
    if accepted:
        assert response.json()["order"][0]["product"] == product


async def test_many_items_beyond_the_cap_are_rejected(client: httpx.AsyncClient) -> None:
    body = {"order": [{"product": "a", "size": "big"}] * 101}
    response = await client.post("/orders", json=body)
    assert response.status_code == 422


async def test_unicode_products_round_trip(client: httpx.AsyncClient) -> None:
    created = await create(client, "café crème ☕", "抹茶")
    fetched = (await client.get(f"/orders/{created['id']}")).json()
    assert [i["product"] for i in fetched["order"]] == ["café crème ☕", "抹茶"]


# --- body size limit ----------------------------------------------------------------------


async def test_body_over_64_kib_is_413(client: httpx.AsyncClient) -> None:
    big = {"order": [{"product": "x" * 150, "size": "big"}] * 500}
    response = await client.post("/orders", json=big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()
    assert (await client.get("/orders")).json() == {"orders": []}


async def test_body_over_64_kib_without_content_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(70):
            yield b"x" * 1024

    response = await client.post("/orders", content=chunks())
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body larger than 65536 bytes"}


async def test_get_declaring_an_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/orders", content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body larger than 65536 bytes"}


async def test_get_with_an_unread_streamed_body_is_answered(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(70):
            yield b"x" * 1024

    response = await client.request("GET", "/orders", content=chunks())
    assert response.status_code == 200
    assert response.json() == {"orders": []}


async def test_body_at_the_limit_is_accepted_by_the_limit(client: httpx.AsyncClient) -> None:
    payload = b'{"order": [{"product": "a", "size": "big"}]}'
    padded = payload[:-1] + b" " * (64 * 1024 - len(payload)) + b"}"
    assert len(padded) == 64 * 1024
    response = await client.post(
        "/orders", content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201


# --- unknown routes and methods -----------------------------------------------------------


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/orders", "GET, HEAD, POST"),
        ("DELETE", "/orders", "GET, HEAD, POST"),
        ("PATCH", "/orders/01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f", "GET, HEAD, PUT, DELETE"),
        ("POST", "/orders/01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f", "GET, HEAD, PUT, DELETE"),
        ("GET", "/orders/01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f/pay", "POST"),
        ("HEAD", "/orders/01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f/pay", "POST"),
        ("POST", "/hi", "GET, HEAD"),
        ("PUT", "/health", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_with_every_allowed_method(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    if method != "HEAD":
        assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/hi", "/health", "/docs", "/openapi.json", "/orders", "{order}"])
async def test_head_answers_wherever_get_does_without_a_body(
    client: httpx.AsyncClient, path: str
) -> None:
    """RFC 9110 §9.3.2: HEAD is GET without the content, same status and header fields."""
    if path == "{order}":
        path = f"/orders/{(await create(client, 'latte'))['id']}"
    got, head = await client.get(path), await client.head(path)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert got.status_code == 200
    for name in ("content-type", "content-length", "etag"):
        assert head.headers.get(name) == got.headers.get(name), name


# --- ownership ----------------------------------------------------------------------------


async def test_orders_are_invisible_to_other_users(client_for: ClientFactory) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    mine = await create(alice, "alice's latte")
    theirs = await create(bob, "bob's tea")
    oid = mine["id"]

    assert (await bob.get(f"/orders/{oid}")).status_code == 404
    assert (await act(bob, oid, "replace")).status_code == 404
    assert (await act(bob, oid, "pay")).status_code == 404
    assert (await act(bob, oid, "cancel")).status_code == 404
    assert (await bob.delete(f"/orders/{oid}")).status_code == 404
    assert (await bob.get("/orders")).json() == {"orders": [theirs]}
    assert (await alice.get("/orders")).json() == {"orders": [mine]}
    assert (await alice.get(f"/orders/{oid}")).json() == mine


async def test_a_missing_order_and_anothers_order_look_the_same(client_for: ClientFactory) -> None:
    alice, bob = client_for("alice"), client_for("bob")
    oid = (await create(alice))["id"]
    missing = "01939c5e-4f9a-7c3e-9d2f-5b6a7c8d9e0f"
    theirs = await bob.get(f"/orders/{oid}")
    absent = await bob.get(f"/orders/{missing}")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.json()["detail"].replace(oid, "X") == absent.json()["detail"].replace(
        missing, "X"
    )

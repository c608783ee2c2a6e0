"""The orders API end to end, on orders this suite creates (and deletes) itself."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from smoke.conftest import ORDER, Orders, url

OTHER = {"order": [{"product": "latte", "size": "small"}]}


def _error(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail
    return detail


def test_order_lifecycle(client: httpx.Client, orders: Orders) -> None:
    created = orders.create()
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "created"
    assert order["order"] == ORDER["order"]
    assert created.headers["location"].endswith(f"/orders/{order['id']}")
    etag = created.headers["etag"]

    fetched = client.get(url(created.headers["location"]))
    assert fetched.status_code == 200
    assert fetched.json() == order
    assert fetched.headers["etag"] == etag

    listed = client.get("orders", params={"limit": 100})
    assert listed.status_code == 200
    assert order["id"] in [o["id"] for o in listed.json()["orders"]]

    replaced = client.put(f"orders/{order['id']}", json=OTHER, headers={"if-match": etag})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["order"] == [{"product": "latte", "size": "small", "quantity": 1}]
    assert replaced.headers["etag"] != etag

    paid = client.post(f"orders/{order['id']}/pay", headers={"if-match": replaced.headers["etag"]})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"

    cancelled = client.post(f"orders/{order['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    deleted = client.delete(
        f"orders/{order['id']}", headers={"if-match": cancelled.headers["etag"]}
    )
    assert deleted.status_code == 204
    assert deleted.content == b""
    _error(client.get(f"orders/{order['id']}"), 404)


def test_unknown_order_is_404(client: httpx.Client) -> None:
    missing = f"orders/{uuid.uuid4()}"
    for response in (
        client.get(missing),
        client.put(missing, json=ORDER),
        client.post(f"{missing}/pay"),
        client.delete(missing),
    ):
        assert isinstance(_error(response, 404), str)


def test_forbidden_transition_is_409_and_changes_nothing(
    client: httpx.Client, orders: Orders
) -> None:
    order = orders.new()
    assert client.post(f"orders/{order['id']}/cancel").status_code == 200
    assert isinstance(_error(client.post(f"orders/{order['id']}/pay"), 409), str)
    assert isinstance(_error(client.put(f"orders/{order['id']}", json=OTHER), 409), str)
    assert client.get(f"orders/{order['id']}").json()["status"] == "cancelled"


def test_stale_if_match_is_412_and_changes_nothing(client: httpx.Client, orders: Orders) -> None:
    created = orders.create()
    order, stale = created.json(), created.headers["etag"]
    assert client.put(f"orders/{order['id']}", json=OTHER).status_code == 200
    for response in (
        client.put(f"orders/{order['id']}", json=ORDER, headers={"if-match": stale}),
        client.post(f"orders/{order['id']}/pay", headers={"if-match": stale}),
        client.delete(f"orders/{order['id']}", headers={"if-match": stale}),
    ):
        _error(response, 412)
    current = client.get(f"orders/{order['id']}").json()
    assert current["status"] == "created"
    assert current["order"][0]["product"] == "latte"


def test_invalid_input_is_422(client: httpx.Client, orders: Orders) -> None:
    bodies: list[dict[str, Any]] = [
        {},
        {"order": []},
        {"order": [{"product": "t", "size": "huge"}]},
    ]
    for body in bodies:
        assert isinstance(_error(client.post("orders", json=body), 422), list)
    assert isinstance(_error(client.get("orders/not-a-uuid"), 422), list)
    assert isinstance(_error(client.get("orders", params={"limit": 0}), 422), list)
    order = orders.new()
    _error(client.put(f"orders/{order['id']}", json={"order": "x"}), 422)
    assert client.get(f"orders/{order['id']}").json() == order


def test_idempotency_key_replays_the_first_answer(client: httpx.Client, orders: Orders) -> None:
    key = {"idempotency-key": f"smoke-{uuid.uuid4()}"}
    first = orders.create(headers=key)
    again = orders.create(headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert orders.ids == [first.json()["id"]]  # one order, not two
    _error(orders.create(OTHER, headers=key), 422)  # same key, another body


def test_pagination_links_walk_over_every_own_order(client: httpx.Client, orders: Orders) -> None:
    mine = [orders.new()["id"] for _ in range(5)]
    seen: list[str] = []
    next_url: str | None = url("orders?limit=2")
    pages = 0
    while next_url and pages < 1000:
        page = client.get(next_url)
        assert page.status_code == 200, page.text
        ids = [o["id"] for o in page.json()["orders"]]
        assert len(ids) <= 2
        seen += ids
        pages += 1
        link = page.links.get("next")
        next_url = link["url"] if link else None
        if set(mine) <= set(seen):
            break
    assert len(seen) == len(set(seen)), "a page repeated an order"
    assert set(mine) <= set(seen)
    assert pages >= 3
    assert [i for i in seen if i in mine] == list(reversed(mine))  # newest first

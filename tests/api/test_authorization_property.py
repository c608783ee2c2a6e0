"""Object-level authorization, property-based: whatever two users do, neither can see or touch
the other's orders (always 404, data unchanged), including through cursors and idempotency keys.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.main import create_app
from tests.support import TEST_USER_HEADER, HeaderIdentity, order_body

pytestmark = pytest.mark.anyio

USERS = ("alice", "bob")
TARGETED = ("get", "replace", "pay", "cancel", "delete")


@dataclass(frozen=True)
class Op:
    user: str
    kind: str  # create | list | one of TARGETED | replay_cursor | reuse_key
    target: int = 0  # index into the orders created so far (any owner)
    key: str | None = None


ops = st.one_of(
    st.builds(
        Op,
        user=st.sampled_from(USERS),
        kind=st.just("create"),
        key=st.none() | st.sampled_from(["k1", "k2"]),
    ),
    st.builds(
        Op, user=st.sampled_from(USERS), kind=st.sampled_from(TARGETED), target=st.integers(0, 20)
    ),
    st.builds(Op, user=st.sampled_from(USERS), kind=st.sampled_from(["list", "replay_cursor"])),
)


@dataclass
class Model:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last known body
    owner: dict[str, str] = field(default_factory=dict)
    created_ids: list[str] = field(default_factory=list)
    cursors: dict[str, list[str]] = field(default_factory=dict)  # user -> cursors seen

    def ids_of(self, user: str) -> list[str]:
        return [i for i in self.created_ids if self.owner[i] == user and i in self.orders]


async def check(client_for: dict[str, httpx.AsyncClient], model: Model, op: Op) -> None:
    client = client_for[op.user]
    if op.kind == "create":
        headers = {"Idempotency-Key": op.key} if op.key else {}
        response = await client.post("/orders", json=order_body(op.user), headers=headers)
        assert response.status_code in (201, 422)
        if response.status_code == 201:
            body = response.json()
            if body["id"] in model.owner:  # replay: must be the caller's own earlier order
                assert model.owner[body["id"]] == op.user
            else:
                model.owner[body["id"]] = op.user
                model.created_ids.append(body["id"])
                model.orders[body["id"]] = body
        return
    if op.kind in ("list", "replay_cursor"):
        params: dict[str, Any] = {"limit": 2}
        if op.kind == "replay_cursor":
            stolen = [c for u, cs in model.cursors.items() if u != op.user for c in cs]
            if not stolen:
                return
            params["cursor"] = stolen[-1]
        response = await client.get("/orders", params=params)
        assert response.status_code == 200
        seen = [o["id"] for o in response.json()["orders"]]
        assert all(model.owner[i] == op.user for i in seen)
        if "link" in response.headers:
            cursor = httpx.URL(response.headers["link"][1:].split(">")[0]).params["cursor"]
            model.cursors.setdefault(op.user, []).append(cursor)
        return
    if not model.created_ids:
        return
    target = model.created_ids[op.target % len(model.created_ids)]
    owner = model.owner[target]
    before = {u: (await c.get(f"/orders/{target}")) for u, c in client_for.items()}
    path = f"/orders/{target}"
    if op.kind == "get":
        response = await client.get(path)
    elif op.kind == "replace":
        response = await client.put(path, json=order_body("changed"))
    elif op.kind == "delete":
        response = await client.delete(path)
    else:
        response = await client.post(f"{path}/{op.kind}")
    if owner != op.user:
        assert response.status_code == 404
        after = await client_for[owner].get(path)
        assert (after.status_code, after.content) == (
            before[owner].status_code,
            before[owner].content,
        )
        return
    assert response.status_code in (200, 204, 404, 409)
    if op.kind == "delete" and response.status_code == 204:
        model.orders.pop(target, None)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(ops, min_size=3, max_size=25))
async def test_users_never_reach_each_others_orders(store_url: str, sequence: list[Op]) -> None:
    # One store for every example; fresh user names keep the examples apart.
    run_id = uuid.uuid4().hex[:8]

    app = create_app(Settings(store_url=store_url, greet_delay=0), identity=HeaderIdentity())
    async with app.router.lifespan_context(app):
        clients = {
            user: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://t",
                headers={TEST_USER_HEADER: f"{user}-{run_id}"},
            )
            for user in USERS
        }
        model = Model()
        for op in sequence:
            await check(clients, model, op)
        for user, client in clients.items():
            listed = (await client.get("/orders", params={"limit": 100})).json()["orders"]
            assert {o["id"] for o in listed} == set(model.ids_of(user))
            await client.aclose()

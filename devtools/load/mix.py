"""The routes a run mixes, the ``MIX`` syntax, and the requests each route sends.

``get`` reads one of a few orders; ``list`` reads the caller's newest page; ``create`` places
an order with an ``Idempotency-Key``; ``pay``, ``cancel`` and ``delete`` each consume an order
of their own (a paid order cannot be paid again), sending ``If-Match`` with the ETag its
creation returned. Those orders are created before the timed run (``seed_orders``), not
counted: the schedule is known in advance, so exactly as many are made as the run consumes, and
no request in the run waits on another one (which would make the run partly closed-loop).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from devtools.load.plan import PlanError

ROUTES = ("hi", "get", "list", "create", "pay", "cancel", "delete")
CONSUMING = ("pay", "cancel", "delete")  # each needs an order of its own
DEFAULT_MIX = "hi:1,get:5,list:2,create:2,pay:1,cancel:1,delete:1"
READ_POOL = 16  # orders that ``get`` reads in turn
ORDER = {"order": [{"product": "latte", "size": "small", "quantity": 1}]}
JSON = {"content-type": "application/json"}


def parse_mix(text: str) -> dict[str, float]:
    """``hi:1,get:5`` → ``{"hi": 1.0, "get": 5.0}``; a route alone weighs 1 (``MIX=hi``)."""
    mix: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, weight = part.partition(":")
        name = name.strip()
        if name not in ROUTES:
            raise PlanError(f"unknown route {name!r} in the mix (routes: {', '.join(ROUTES)})")
        try:
            mix[name] = float(weight) if weight else 1.0
        except ValueError:
            raise PlanError(f"the weight of {name} must be a number, not {weight!r}") from None
    if not mix:
        raise PlanError("the mix is empty")
    return mix


@dataclass(frozen=True)
class Request:
    """One request as the client sends it."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: object | None = None


@dataclass
class Orders:
    """The orders seeded for a run: a read pool and one order per consuming request."""

    read: list[str] = field(default_factory=list)
    consumable: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # route → (id, etag)

    @property
    def total(self) -> int:
        return len(self.read) + sum(len(made) for made in self.consumable.values())


class Requests:
    """Builds each scheduled request; ``run_id`` keeps idempotency keys unique per run."""

    def __init__(self, orders: Orders, run_id: str) -> None:
        self.orders = orders
        self.run_id = run_id
        self._next = dict.fromkeys(ROUTES, 0)

    def build(self, route: str, index: int) -> Request:
        turn = self._next[route]
        self._next[route] = turn + 1
        if route == "hi":
            return Request("GET", "/hi")
        if route == "list":
            return Request("GET", "/orders?limit=10")
        if route == "create":
            key = {"idempotency-key": f"load-{self.run_id}-{index}"}
            return Request("POST", "/orders", {**JSON, **key}, ORDER)
        if route == "get":
            order_id = self.orders.read[turn % len(self.orders.read)]
            return Request("GET", f"/orders/{order_id}")
        order_id, etag = self.orders.consumable[route][turn]
        headers = {"if-match": etag}
        if route == "delete":
            return Request("DELETE", f"/orders/{order_id}", headers)
        return Request("POST", f"/orders/{order_id}/{route}", headers)


async def seed_orders(
    client: httpx.AsyncClient, routes: Iterable[str], *, concurrency: int = 8
) -> Orders:
    """Create the orders that the scheduled ``routes`` need (before the timed run)."""
    routes = list(routes)
    needed = {route: routes.count(route) for route in CONSUMING}
    reads = READ_POOL if "get" in routes else 0
    total = reads + sum(needed.values())
    gate = asyncio.Semaphore(concurrency)

    async def create() -> tuple[str, str]:
        async with gate:
            answer = await client.post("/orders", json=ORDER)
        if answer.status_code != 201:
            raise PlanError(
                f"seeding an order answered {answer.status_code}: {answer.text[:200]} "
                "(a deployed API needs TOKEN=<jwt>)"
            )
        return str(answer.json()["id"]), answer.headers["etag"]

    made = list(await asyncio.gather(*(create() for _ in range(total))))
    orders = Orders(read=[order_id for order_id, _ in made[:reads]])
    rest = made[reads:]
    for route, count in needed.items():
        orders.consumable[route], rest = rest[:count], rest[count:]
    return orders


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]

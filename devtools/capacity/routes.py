"""Per-route figures: what one request of each route costs the function and the table.

Defaults (used where no ``make load`` report gives a measured figure), and where they come from:

- ``duration_ms``: the function's warm ``REPORT Duration`` through the local Lambda runtime on
  moto. ``GET /hi`` 1.08 ms plus ``GREET_DELAY``; ``GET /orders/{id}`` 13.74 ms (both medians of
  200, docs/performance.md, "local Lambda runtime"). Routes not benchmarked there are estimated
  from the store calls they make (marked ``estimate``).
- DynamoDB calls and units, from what ``app/store/dynamodb/`` sends (items ≤ 1 KB; reads are
  strongly consistent, 1 RRU per 4 KB; a transactional write 2 WRU per 1 KB item; units as on
  https://aws.amazon.com/dynamodb/pricing/on-demand/, "Key terms"):
  get: one GetItem (1 RRU); list: one Query for a page (up to 8 KB: 2 RRU); create with an
  Idempotency-Key: the key's conditional claim (1 WRU), then TransactWriteItems of the order and
  the key's completion (2 x 2 WRU); pay with If-Match, cancel: one conditional UpdateItem
  (1 WRU); delete: one conditional DeleteItem (1 WRU).
- ``log_bytes``: an estimate: the stage's JSON access log line (``infra/api.py``, about 450 B)
  and the platform's START/END/REPORT lines (about 300 B); the app logs nothing per request at
  INFO.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HI, ORDERS, ORDER = "ANY /hi", "ANY /orders", "ANY /orders/{proxy+}"  # app/contract/gateway_routes


@dataclass(frozen=True, slots=True)
class RouteFigures:
    """What one request of a route takes. ``duration_ms`` excludes ``GREET_DELAY`` (added from
    the stack's knob) and includes ``store_calls`` DynamoDB calls at ``local_store_ms``."""

    route_key: str
    duration_ms: float
    store_calls: int
    read_units: float
    write_units: float
    log_bytes: float = 750.0
    greets: bool = False  # awaits GREET_DELAY
    source: str = "default"


DEFAULTS: dict[str, RouteFigures] = {
    "hi": RouteFigures(HI, 1.08, 0, 0, 0, greets=True, source="docs/performance.md"),
    "get": RouteFigures(ORDER, 13.74, 1, 1, 0, source="docs/performance.md"),
    "list": RouteFigures(ORDERS, 20.0, 1, 2, 0, source="estimate"),
    "create": RouteFigures(ORDERS, 28.0, 2, 0, 5, source="estimate"),
    "pay": RouteFigures(ORDER, 15.0, 1, 0, 1, source="estimate"),
    "cancel": RouteFigures(ORDER, 15.0, 1, 0, 1, source="estimate"),
    "delete": RouteFigures(ORDER, 14.0, 1, 0, 1, source="estimate"),
}
ROUTES = tuple(DEFAULTS)


def parse_mix(text: str) -> dict[str, float]:
    """``hi`` or ``get:3,create:1`` → weights summing to 1; an unknown route or a bad weight
    raises ValueError naming it."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, weight = part.partition(":")
        name = name.strip()
        if name not in DEFAULTS:
            raise ValueError(f"unknown route {name!r} in MIX (routes: {', '.join(ROUTES)})")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"MIX weight of {name!r} is not a number: {weight!r}") from None
        if not value >= 0:
            raise ValueError(f"MIX weight of {name!r} must not be negative")
        weights[name] = weights.get(name, 0.0) + value
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("MIX names no route with a positive weight")
    return {name: value / total for name, value in weights.items() if value > 0}


def measured(report: Mapping[str, Any]) -> tuple[dict[str, RouteFigures], float | None]:
    """Figures from a ``make load`` report: each route the local runtime REPORTed takes its mean
    ``Duration`` (``GREET_DELAY`` taken out for /hi, as the run's own delay may differ), and the
    local store's time per call from moto's CPU per request where the report has it."""
    runtime = report.get("runtime") or {}
    reports: Mapping[str, Any] = runtime.get("reports") or {}
    figures = dict(DEFAULTS)
    for name, seen in reports.items():
        base = DEFAULTS.get(name)
        mean = (seen.get("duration_ms") or {}).get("mean")
        if base is None or not isinstance(mean, int | float) or not seen.get("count"):
            continue
        figures[name] = dataclasses.replace(base, duration_ms=float(mean), source="load report")
    return figures, _local_store_ms(report, runtime)


def _local_store_ms(report: Mapping[str, Any], runtime: Mapping[str, Any]) -> float | None:
    moto = (runtime.get("cpu_ms_per_request") or {}).get("moto")
    mix: Mapping[str, float] = (report.get("plan") or {}).get("mix") or {}
    total = sum(mix.values())
    calls = sum(w * DEFAULTS[r].store_calls for r, w in mix.items() if r in DEFAULTS)
    if not isinstance(moto, int | float) or total <= 0 or calls <= 0:
        return None
    return float(moto) / (calls / total)

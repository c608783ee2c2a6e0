"""The service-level objective a run is judged by: per route, a p99 latency (from the
scheduled time) and an error ratio.

Defaults: p99 ≤ 500 ms and ≤ 1 % errors for every route but ``hi``, whose handler waits
``GREET_DELAY`` (3 s by default) on purpose: p99 ≤ 4,000 ms there. ``--slo get:200:0.001,...``
overrides a route's (``route:p99_ms[:error_ratio]``; ``*`` for every route).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devtools.load.mix import ROUTES
from devtools.load.plan import PlanError
from devtools.load.stats import error_ratio


@dataclass(frozen=True)
class Objective:
    p99_ms: float
    error_ratio: float


DEFAULT = Objective(p99_ms=500.0, error_ratio=0.01)
DEFAULTS = dict.fromkeys(ROUTES, DEFAULT) | {"hi": Objective(4000.0, 0.01)}


def parse_slo(text: str | None) -> dict[str, Objective]:
    """The objectives with ``text``'s overrides applied."""
    objectives = dict(DEFAULTS)
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        fields = part.split(":")
        route = fields[0].strip()
        if route not in (*ROUTES, "*") or not 2 <= len(fields) <= 3:
            raise PlanError(f"an SLO is route:p99_ms[:error_ratio], not {part!r}")
        try:
            p99 = float(fields[1])
            ratio = float(fields[2]) if len(fields) == 3 else None
        except ValueError:
            raise PlanError(f"an SLO is route:p99_ms[:error_ratio], not {part!r}") from None
        for name in ROUTES if route == "*" else (route,):
            limit = ratio if ratio is not None else objectives[name].error_ratio
            objectives[name] = Objective(p99, limit)
    return objectives


def verdict(routes: dict[str, dict[str, Any]], objectives: dict[str, Objective]) -> dict[str, Any]:
    """``{"verdict": "met"|"missed", "routes": {...}}`` for the routes that ran."""
    judged: dict[str, dict[str, Any]] = {}
    for route, stats in routes.items():
        objective = objectives[route]
        met = (
            stats["sent"] > 0
            and stats["p99"] <= objective.p99_ms
            and error_ratio(stats) <= objective.error_ratio
        )
        judged[route] = {
            "p99_ms": objective.p99_ms,
            "error_ratio": objective.error_ratio,
            "measured_p99_ms": stats["p99"],
            "measured_error_ratio": round(error_ratio(stats), 5),
            "met": met,
        }
    all_met = bool(judged) and all(j["met"] for j in judged.values())
    return {"verdict": "met" if all_met else "missed", "routes": judged}

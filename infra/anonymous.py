"""Route throttles for the anonymous routes: together they hold at most half the reservation.

Every public route invokes the function, and on Lambda an execution environment serves one
invocation at a time. API Gateway throttles each route with a token bucket of its own
("Throttling requests to your HTTP API": https://docs.aws.amazon.com/apigateway/latest/
developerguide/http-api-throttling.html), which admits at most ``burst + rate * T`` requests in
any ``T`` seconds; a request that holds an environment at most ``T`` seconds (its *hold*) leaves
at most that many in flight (Little's law, worst case). The anonymous routes' sum stays within
``ANONYMOUS_SHARE`` of the reserved concurrency, so owners always keep the rest.

These are targets: AWS applies throttles "on a best-effort basis" and a route may briefly see
more than its limits. HTTP APIs have no mock integration (a REST API feature), so the public
routes cannot be answered without the function; with CORS, API Gateway answers a preflight
itself, but an ``OPTIONS`` request without the CORS headers still reaches the function, so
those routes count too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.contract.gateway_routes import gateway_routes
from infra.context import StageConfig

GREETING_ROUTE = "ANY /hi"  # app/contract/gateway_routes.py
# The app's own time and, on a new environment, a SnapStart restore (this much, at most, for both).
OVERHEAD_SECONDS = 0.5
# The other public routes await nothing but a readiness check (`/health?ready=1`), which answers
# within a second (READINESS_BUDGET, app/store/budget.py).
QUICK_HOLD_SECONDS = 1.0 + OVERHEAD_SECONDS
# At most this share of the reserved concurrency may be held by anonymous requests.
ANONYMOUS_SHARE = 0.5
# How the share is split, by route: the greeting first; a route that does not fit is closed,
# the least weighted first (a reservation too small for all of them, e.g. 7).
WEIGHTS = {
    GREETING_ROUTE: 0.4,
    "ANY /health": 0.3,
    "ANY /openapi.json": 0.11,  # before /docs, which reads it
    "ANY /docs": 0.09,
    "OPTIONS /orders": 0.05,
    "OPTIONS /orders/{proxy+}": 0.05,
}
# Of each route's share, this much (at least 1) is its burst; the rest its steady rate.
BURST_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Throttle:
    rate: float  # requests per second
    burst: int  # token bucket size

    def held(self, hold: float) -> float:
        """Environments held at most: what the bucket admits within one ``hold``."""
        return self.burst + self.rate * hold


CLOSED = Throttle(0.0, 0)


def anonymous_routes(config: StageConfig) -> tuple[str, ...]:
    """The route keys of the stage's public routes, most weighted first."""
    keys = [r.route_key for r in gateway_routes(cors=bool(config.cors_origins)) if r.public]
    return tuple(sorted(keys, key=lambda k: -WEIGHTS[k]))


def hold_seconds(route_key: str, config: StageConfig) -> float:
    """How long one request to the route holds an environment, at most."""
    if route_key == GREETING_ROUTE:
        return config.greet_delay + OVERHEAD_SECONDS
    return QUICK_HOLD_SECONDS


def anonymous_throttles(config: StageConfig) -> dict[str, Throttle]:
    """Each public route's throttle; empty without a reservation (no share to keep).

    Never above the stage's default limits. A route whose burst of 1 no longer fits in what is
    left of the share is closed (burst 0, rate 0: API Gateway answers 429).
    """
    if not config.reserved_concurrency:
        return {}
    budget = config.reserved_concurrency * ANONYMOUS_SHARE
    routes = anonymous_routes(config)
    bursts: dict[str, int] = {}
    for key in routes:  # most weighted first: a burst each while some budget stays for rates
        share = budget * WEIGHTS[key] / sum(WEIGHTS[k] for k in routes)
        burst = min(config.throttle_burst, max(1, int(share * BURST_SHARE)))
        if sum(bursts.values()) + burst >= budget:
            break
        bursts[key] = burst
    left = budget - sum(bursts.values())
    weight = sum(WEIGHTS[k] for k in bursts)
    throttles = dict.fromkeys(routes, CLOSED)
    for key, burst in bursts.items():
        rate = math.floor(left * WEIGHTS[key] / weight / hold_seconds(key, config) * 100) / 100
        throttles[key] = Throttle(min(config.throttle_rate, rate), burst) if rate > 0 else CLOSED
    return throttles

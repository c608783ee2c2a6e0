"""The capacity model: from a traffic scenario, per-route figures and the stack's knobs to
throttles, concurrency and DynamoDB load (``monthly`` prices the month).

Per route r with weight w_r of ``rate`` x ``peak`` requests a second:
1. API Gateway: each route key has its own token bucket; the share it refuses (429) follows
   from the offered rate on that key (``queueing.token_bucket_refused``).
2. Lambda: what API Gateway admits holds an environment for the function's duration (the
   store's calls at ``store_ms`` each, ``GREET_DELAY`` for /hi, a share of restores). The
   offered load A = Σ λ_r·S_r erlangs (Little's law) meets the reserved concurrency N as an
   Erlang loss system: throttled share B(N, A), mean environments busy A·(1 - B).
3. DynamoDB: units a second of what Lambda serves, the most active owner's share of it on one
   partition (the table's partition key is the owner), against AWS's per-partition, new-table
   and the stack's own on-demand maximums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devtools.capacity.prices import Prices
from devtools.capacity.queueing import (
    Arrival,
    erlang_b,
    peak_in_flight,
    servers_for,
    token_bucket_refused,
)
from devtools.capacity.routes import RouteFigures
from devtools.capacity.stack import Stack

RESTORE_MS = 51.4  # SnapStart restore → first response, median (docs/performance.md)
INIT_MS = 411.0  # on-demand cold start until the response, median (docs/performance.md)


@dataclass(frozen=True, slots=True)
class Scenario:
    """The traffic: ``rate`` (mean requests a second over the month), the mix of routes, the
    peak (x rate) the capacity must hold, and the most active owner's share of owner traffic."""

    rate: float
    mix: Mapping[str, float]
    peak: float = 1.0
    owner_share: float = 0.01
    store_ms: float | None = None  # DynamoDB's latency per call on AWS; None: prices.toml's
    local_store_ms: float | None = None  # the store's time per call in the measured durations
    cold_start_share: float | None = None  # None: prices.toml's
    arrival: Arrival = "poisson"
    seconds: float = 3600.0  # the span whose peak in-flight is asked for
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Load:
    """The model's answer at one rate."""

    offered: dict[str, float]  # requests a second by route
    gateway_refused: dict[str, float]  # share by route
    hold_s: dict[str, float]  # seconds an environment is held, by route
    erlangs: float
    limit: int
    lambda_throttled: float  # share of what API Gateway admitted
    served: dict[str, float]  # requests a second that reached the app

    @property
    def total(self) -> float:
        return sum(self.offered.values())

    def shares(self) -> dict[str, float]:
        total = self.total or 1.0
        gateway = sum(self.offered[r] * self.gateway_refused[r] for r in self.offered) / total
        admitted = sum(self.offered[r] * (1 - self.gateway_refused[r]) for r in self.offered)
        lam = admitted * self.lambda_throttled / total
        return {"api_gateway": gateway, "lambda": lam, "total": gateway + lam}


def store_ms(scenario: Scenario, prices: Prices) -> float:
    return prices["dynamodb_latency_ms"] if scenario.store_ms is None else scenario.store_ms


def hold_seconds(figures: RouteFigures, stack: Stack, scenario: Scenario, prices: Prices) -> float:
    """How long one request of the route holds an environment on AWS."""
    local = (
        store_ms(scenario, prices) if scenario.local_store_ms is None else scenario.local_store_ms
    )
    own_ms = max(0.0, figures.duration_ms - figures.store_calls * local)
    ms = own_ms + figures.store_calls * store_ms(scenario, prices)
    cold = _cold_share(scenario, prices) * (RESTORE_MS if stack.snap_start else INIT_MS)
    return (ms + cold) / 1000 + (stack.greet_delay if figures.greets else 0.0)


def load_at(
    rate: float,
    scenario: Scenario,
    stack: Stack,
    figures: Mapping[str, RouteFigures],
    prices: Prices,
) -> Load:
    """Throttles and concurrency at ``rate`` requests a second of the scenario's mix."""
    offered = {r: rate * w for r, w in scenario.mix.items()}
    per_key: dict[str, float] = {}
    for route, value in offered.items():
        per_key[figures[route].route_key] = per_key.get(figures[route].route_key, 0.0) + value
    refused_by_key = {}
    for key, value in per_key.items():
        limits = stack.limits(key)
        refused_by_key[key] = (
            0.0
            if limits is None
            else token_bucket_refused(value, limits.rate, limits.burst, arrival=scenario.arrival)
        )
    refused = {r: refused_by_key[figures[r].route_key] for r in offered}
    hold = {r: hold_seconds(figures[r], stack, scenario, prices) for r in offered}
    erlangs = sum(offered[r] * (1 - refused[r]) * hold[r] for r in offered)
    limit = stack.reserved_concurrency or int(prices["lambda_account_concurrency"])
    throttled = erlang_b(limit, erlangs)
    served = {r: offered[r] * (1 - refused[r]) * (1 - throttled) for r in offered}
    return Load(offered, refused, hold, erlangs, limit, throttled, served)


def capacity(
    scenario: Scenario, stack: Stack, figures: Mapping[str, RouteFigures], prices: Prices
) -> dict[str, Any]:
    """The capacity part of the report at the scenario's peak."""
    peak = load_at(scenario.rate * scenario.peak, scenario, stack, figures, prices)
    busy = peak.erlangs * (1 - peak.lambda_throttled)
    arrivals = peak.total * scenario.seconds
    by_route = {
        r: {
            "offered_per_s": peak.offered[r],
            "hold_ms": peak.hold_s[r] * 1000,
            "environments": peak.offered[r] * (1 - peak.gateway_refused[r]) * peak.hold_s[r],
            "api_gateway_refused": peak.gateway_refused[r],
        }
        for r in peak.offered
    }
    return {
        "concurrency": {
            "mean": busy,
            "offered_erlangs": peak.erlangs,
            "limit": peak.limit,
            "peak_in_run": min(
                peak.limit, peak_in_flight(peak.erlangs, arrivals, scenario.arrival)
            ),
            "run_seconds": scenario.seconds,
            "environments_for_1pct_throttle": servers_for(peak.erlangs, 0.01)
            if peak.erlangs > 0
            else 0,
            "by_route": by_route,
        },
        "throttled_share": peak.shares(),
        "api_gateway": {
            "requests_per_s": peak.total,
            "account_quota_per_s": prices["api_gateway_account_rate"],
            "share_of_quota": peak.total / prices["api_gateway_account_rate"],
        },
        "dynamodb": dynamodb(peak, scenario, stack, figures, prices),
    }


def dynamodb(
    load: Load,
    scenario: Scenario,
    stack: Stack,
    figures: Mapping[str, RouteFigures],
    prices: Prices,
) -> dict[str, Any]:
    """Units a second, and the hottest partition's (the most active owner's) share of them."""
    reads = sum(load.served[r] * figures[r].read_units for r in load.served)
    writes = sum(load.served[r] * figures[r].write_units for r in load.served)
    hot_r, hot_w = reads * scenario.owner_share, writes * scenario.owner_share
    return {
        "read_units_per_s": reads,
        "write_units_per_s": writes,
        "hot_partition": {
            "owner_share": scenario.owner_share,
            "read_units_per_s": hot_r,
            "write_units_per_s": hot_w,
            "read_share_of_partition": hot_r / prices["dynamodb_partition_rcu"],
            "write_share_of_partition": hot_w / prices["dynamodb_partition_wcu"],
        },
        "new_table_share": max(
            reads / prices["dynamodb_new_table_rru"], writes / prices["dynamodb_new_table_wru"]
        ),
        "table_max_share": max(
            reads / stack.table_max_read_units if stack.table_max_read_units else 0.0,
            writes / stack.table_max_write_units if stack.table_max_write_units else 0.0,
        ),
    }


def _cold_share(scenario: Scenario, prices: Prices) -> float:
    if scenario.cold_start_share is not None:
        return scenario.cold_start_share
    return prices["lambda_cold_start_share"]

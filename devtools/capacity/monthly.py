"""The month's bill by line item at the scenario's mean rate, the cost of a million requests of
each route, the largest lever, and what moves when the store's latency does.

Assumptions (docs/capacity.md): every offered request is billed by the HTTP API, 429s included
(conservative); only what Lambda served is billed by Lambda and DynamoDB; each billed duration
is the mean rounded up to the millisecond; one SnapStart version is cached all month; no free
tier (it is the account's, shared with its other functions).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from devtools.capacity.cost import GIB, SECONDS_PER_MONTH, cents, xray_traces
from devtools.capacity.model import (
    INIT_MS,
    RESTORE_MS,
    Scenario,
    _cold_share,
    capacity,
    load_at,
    store_ms,
)
from devtools.capacity.prices import Prices
from devtools.capacity.routes import RouteFigures
from devtools.capacity.stack import Stack


def per_request(
    route: str,
    hold_s: float,
    stack: Stack,
    figures: RouteFigures,
    scenario: Scenario,
    prices: Prices,
    traces_per_request: float,
) -> dict[str, float]:
    """Dollars per request of ``route``, by line item (the SnapStart cache is per month)."""
    gb = stack.memory_mb / 1024
    gb_second = prices["lambda_arm64_gb_second" if stack.arm64 else "lambda_x86_gb_second"]
    cold = _cold_share(scenario, prices)
    invoke_s = (
        math.ceil(hold_s * 1000 - cold * (RESTORE_MS if stack.snap_start else INIT_MS)) / 1000
    )
    if stack.snap_start:
        init = cold * gb * (RESTORE_MS / 1000 * gb_second + prices["snapstart_restore_gb"])
    else:
        init = cold * gb * INIT_MS / 1000 * gb_second
    return {
        "lambda_requests": prices["lambda_request"] / 1e6,
        "lambda_duration": invoke_s * gb * gb_second,
        "lambda_init_and_restore": init,
        "dynamodb_reads": figures.read_units * prices["dynamodb_read_request_unit"] / 1e6,
        "dynamodb_writes": figures.write_units * prices["dynamodb_write_request_unit"] / 1e6,
        "xray_traces": traces_per_request * prices["xray_trace_recorded"] / 1e6,
    }


def bill(
    scenario: Scenario, stack: Stack, figures: Mapping[str, RouteFigures], prices: Prices
) -> dict[str, Any]:
    """Monthly cost by line item and per million requests by route, at the mean rate."""
    load = load_at(scenario.rate, scenario, stack, figures, prices)
    traces = xray_traces(sum(load.served.values()), prices) if stack.tracing else 0.0
    per_served = traces / (sum(load.served.values()) or 1.0)
    items: dict[str, float] = {}
    per_million: dict[str, float] = {}
    for route, offered in load.offered.items():
        f = figures[route]
        unit = per_request(route, load.hold_s[route], stack, f, scenario, prices, per_served)
        api = prices["http_api_request"] / 1e6
        logs = f.log_bytes / GIB * prices["cloudwatch_logs_ingestion_gb"]
        served = load.served[route] * SECONDS_PER_MONTH
        for name, dollars in unit.items():
            items[name] = items.get(name, 0.0) + dollars * served
        items["http_api_requests"] = (
            items.get("http_api_requests", 0.0) + api * offered * SECONDS_PER_MONTH
        )
        items["cloudwatch_logs"] = (
            items.get("cloudwatch_logs", 0.0) + logs * offered * SECONDS_PER_MONTH
        )
        per_million[route] = round((sum(unit.values()) + api + logs) * 1e6, 4)
    if stack.snap_start:
        items["snapstart_cache"] = (
            stack.memory_mb / 1024 * SECONDS_PER_MONTH * prices["snapstart_cache_gb_second"]
        )
    monthly = {name: cents(value) for name, value in sorted(items.items())}
    monthly["total"] = round(sum(monthly.values()), 2)
    return {"monthly_cost_usd": monthly, "cost_per_million_usd": per_million}


def largest_lever(report: Mapping[str, Any], scenario: Scenario) -> str:
    """One sentence: the route holding the largest share of environments against its share of
    requests, and the largest line item of the bill."""
    by_route = report["concurrency"]["by_route"]
    held = sum(v["environments"] for v in by_route.values()) or 1.0
    route = max(by_route, key=lambda r: by_route[r]["environments"])
    share = by_route[route]["environments"] / held
    items = {k: v for k, v in report["monthly_cost_usd"].items() if k != "total"}
    item = max(items, key=lambda k: items[k]) if items else "none"
    total = report["monthly_cost_usd"]["total"] or 1.0
    return (
        f"{route} holds {share:.0%} of the busy environments for {scenario.mix[route]:.0%} of "
        f"the requests ({by_route[route]['hold_ms']:.0f} ms each); the largest line item is "
        f"{item} ({items.get(item, 0) / total:.0%} of the bill)"
    )


def sensitivity(
    scenario: Scenario,
    stack: Stack,
    figures: Mapping[str, RouteFigures],
    prices: Prices,
    latencies: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 50.0),
) -> list[dict[str, float]]:
    """What changes when DynamoDB's latency per call does: environments, throttles, dollars."""
    # The measured durations were taken at the local store's latency: they stay so.
    local = scenario.local_store_ms
    local = store_ms(scenario, prices) if local is None else local
    rows = []
    for ms in latencies:
        moved = dataclasses.replace(scenario, store_ms=ms, local_store_ms=local)
        answer = capacity(moved, stack, figures, prices)
        dollars = bill(moved, stack, figures, prices)["monthly_cost_usd"]
        rows.append(
            {
                "store_ms": ms,
                "concurrency": answer["concurrency"]["mean"],
                "lambda_throttled": answer["throttled_share"]["lambda"],
                "lambda_duration_usd": dollars.get("lambda_duration", 0.0),
                "total_usd": dollars["total"],
            }
        )
    return rows

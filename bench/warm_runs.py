"""Warm invocations of ours and the baselines in the local Lambda runtime, round by round.

Each variant runs as the stack's function (SnapStart: published, then restored by its first
invocation) in the same local runtime, on one table behind the same signing front, as the
SnapStart section runs them; optionally at another memory size and with the CPU share that
size buys (devtools/lambda_runtime/cgroups.py). Every invocation is read for the function's CPU
(thaw to freeze, bench/lambda_cost.py), its REPORT ``Duration`` and billed duration.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.events import create_event, get_event
from bench.lambda_cost import LambdaPrices, cost_per_million, invocation_cpu_ms
from bench.runtime import moto_upstream
from bench.snapstart import POWERTOOLS_NAME, Variant, variants
from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.local_lambda import LocalLambda

OWNER = "alice"
GET, POST = "GET /orders/{id}", "POST /orders"
ROUTES = (GET, POST)
FLOOR = "runtime floor"
WARM_UP = 10  # invocations per route and variant before the first round
CPU, DURATION, BILLED, COST = "function CPU", "REPORT Duration", "billed duration", "cost per 1M"


@dataclass
class RouteRun:
    """One variant's route over a run: every call's figures, and the per-round figures
    (medians of CPU and Duration; means of billed duration and of the cost: a price adds up)."""

    cpu: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    billed: list[float] = field(default_factory=list)
    per_round: dict[str, list[float]] = field(default_factory=dict)

    def close_round(self, start: int, memory_mb: int, prices: LambdaPrices) -> None:
        billed = statistics.fmean(self.billed[start:])
        for what, value in (
            (CPU, statistics.median(self.cpu[start:])),
            (DURATION, statistics.median(self.durations[start:])),
            (BILLED, billed),
            (COST, cost_per_million(billed, memory_mb, prices)),
        ):
            self.per_round.setdefault(what, []).append(value)


@dataclass
class Running:
    """A variant's started function: its service and the runtime process serving it."""

    variant: Variant
    service: LocalLambda
    routes: dict[str, RouteRun] = field(default_factory=lambda: {r: RouteRun() for r in ROUTES})
    max_memory_used_mb: int = 0

    @property
    def pid(self) -> int:
        environment = self.service.environment
        assert environment is not None
        assert environment.process is not None
        return environment.process.pid

    def call(self, route: str, event: dict[str, Any], *, record: bool = True) -> None:
        result, cpu = invocation_cpu_ms(self.pid, lambda: self.service.invoke(event))
        document = result.document()
        expected = 201 if route == POST else 200
        assert result.function_error is None, (self.variant.name, document)
        assert document["statusCode"] == expected, (self.variant.name, route, document)
        assert result.report is not None
        self.max_memory_used_mb = result.report.max_memory_used_mb
        if record:
            run = self.routes[route]
            run.cpu.append(cpu)
            run.durations.append(result.report.duration_ms)
            run.billed.append(result.report.billed_duration_ms)


@dataclass(frozen=True)
class Setting:
    """Where the functions run: a memory size, and whether at the CPU share it buys."""

    memory_mb: int
    cpu_share: bool

    @property
    def label(self) -> str:
        return f"@{self.memory_mb} MB, " + ("CPU share" if self.cpu_share else "full CPU")


@contextmanager
def started(function: FunctionConfig, upstream: str, setting: Setting) -> Iterator[list[Running]]:
    """Each variant as the stack's function at ``setting``, published and ready. Raises
    ``Unscaled`` when the CPU share was asked for and the host cannot give it."""
    python = artifacts.runtime_python()
    with ExitStack() as stack:
        running = []
        for variant in with_floor(variants(function)):
            config = function.replace(handler=variant.handler, memory_mb=setting.memory_mb)
            service = LocalLambda(config, upstream, task_root=variant.task_root, python=python,
                                  scale_cpu=setting.cpu_share)  # fmt: skip
            stack.callback(service.stop)
            service.start()
            if setting.cpu_share and not service.cpu_scaled:
                raise Unscaled(service.describe_limits())
            running.append(Running(variant, service))
        yield running


def with_floor(variants: list[Variant]) -> list[Variant]:
    """``variants`` and the runtime's floor (bench/baselines/floor.py: it answers without doing
    anything), from the Powertools baseline's bundle."""
    powertools = next(v for v in variants if v.name == POWERTOOLS_NAME)
    return [*variants, Variant(FLOOR, powertools.task_root, "floor.handler")]


class Unscaled(RuntimeError):
    """The host gives the local runtime no CPU quota (not root, no cgroup controller...)."""


def measure(
    function: FunctionConfig,
    table: str,
    setting: Setting,
    prices: LambdaPrices,
    *,
    rounds: int,
    calls: int,
) -> list[Running]:
    """Every variant's warm figures at ``setting``: ``rounds`` rounds, the variants in a
    rotating order, ``calls`` invocations of each route per variant and round."""
    with moto_upstream(table) as upstream, started(function, upstream, setting) as running:
        created = running[0].service.invoke(create_event(OWNER)).document()
        assert created["statusCode"] == 201, created
        order_id = json.loads(created["body"])["id"]
        events = {GET: get_event(OWNER, order_id), POST: create_event(OWNER)}
        for each in running:
            for route in ROUTES:
                for _ in range(WARM_UP):
                    each.call(route, events[route], record=False)
        for turn in range(rounds):
            shift = turn % len(running)
            for each in running[shift:] + running[:shift]:
                for route in ROUTES:
                    start = len(each.routes[route].cpu)
                    for _ in range(calls):
                        each.call(route, events[route])
                    each.routes[route].close_round(start, setting.memory_mb, prices)
        return running

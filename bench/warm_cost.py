"""What each warm request costs on Lambda: ours against Powertools + boto3 and FastAPI + Mangum.

The project's asset and the two baselines (bench/baselines/, built as the asset is) run as the
stack's function (SnapStart, its memory size) in the same local Lambda runtime, on one table
behind the same signing front, as the SnapStart section runs them. Each serves warm
``GET /orders/{id}`` (the same order) and unkeyed ``POST /orders`` (a new order each time).
In ``rounds`` rounds, variants in a rotating order, ``calls`` invocations per route, each read:

- the function's CPU over the invocation (``bench/lambda_cost.py``: thaw to freeze);
- REPORT ``Duration`` and billed duration; after the run, ``Max Memory Used``.

A figure's samples are per-round medians (CPU, Duration) or means (billed duration, and the
cost per million requests computed from it: a price adds up), so ours and a baseline pair
round by round. ``python -m bench.warm_cost [--rounds N] [--calls N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.events import create_event, get_event
from bench.lambda_cost import LAMBDA_ARM64, cost_per_million, invocation_cpu_ms, percentile
from bench.runtime import moto_upstream
from bench.snapstart import OURS, POWERTOOLS_NAME, Variant, variants
from bench.snapstart import _function as stack_function
from bench.stats import Figure, Target, paired_ratios, ratio_interval
from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.local_lambda import LocalLambda

SECTION = "warm cost"
TABLE = "orders-bench-warm-cost"
OWNER = "alice"
GET, POST = "GET /orders/{id}", "POST /orders"
ROUTES = (GET, POST)
WARM_UP = 10  # invocations per route and variant before the first round
CPU, DURATION, BILLED, COST = "function CPU", "REPORT Duration", "billed duration", "cost per 1M"
MEMORY = "Max Memory Used"


def targets(label: str = "") -> list[Target]:
    """The section's goals against Powertools + boto3 (paired by round where rounds pair)."""
    against = "Powertools+boto3"
    goals = [
        Target(f"warm function CPU, {route} ≤ 0.7 × {against} (paired)",
               f"{SECTION}/{name(OURS, route, CPU, label)}", 0.7, "<=", paired=True)
        for route in ROUTES
    ]  # fmt: skip
    goals.append(Target(f"{MEMORY} ≤ 1.0 × {against}", f"{SECTION}/{name(OURS, '', MEMORY, label)}",
                        1.0, "<="))  # fmt: skip
    goals += [
        Target(f"cost per million, {route} ≤ 0.8 × {against} (paired)",
               f"{SECTION}/{name(OURS, route, COST, label)}", 0.8, "<=", paired=True)
        for route in ROUTES
    ]  # fmt: skip
    return goals


@dataclass
class RouteRun:
    """One variant's route over the run: every call's figures, and the per-round figures."""

    cpu: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    billed: list[float] = field(default_factory=list)
    per_round: dict[str, list[float]] = field(default_factory=dict)

    def close_round(self, start: int, memory_mb: int) -> None:
        billed = statistics.fmean(self.billed[start:])
        for what, value in (
            (CPU, statistics.median(self.cpu[start:])),
            (DURATION, statistics.median(self.durations[start:])),
            (BILLED, billed),
            (COST, cost_per_million(billed, memory_mb)),
        ):
            self.per_round.setdefault(what, []).append(value)


@dataclass
class Running:
    """A variant's started function: its service and the runtime process serving it."""

    variant: Variant
    service: LocalLambda
    routes: dict[str, RouteRun] = field(default_factory=lambda: {r: RouteRun() for r in ROUTES})

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
        if record:
            run = self.routes[route]
            run.cpu.append(cpu)
            run.durations.append(result.report.duration_ms)
            run.billed.append(result.report.billed_duration_ms)


@contextmanager
def started(function: FunctionConfig, upstream: str) -> Iterator[list[Running]]:
    """Each variant as the stack's function (SnapStart), published and ready."""
    python = artifacts.runtime_python()
    with ExitStack() as stack:
        running = []
        for variant in variants(function):
            config = function.replace(handler=variant.handler)
            service = LocalLambda(config, upstream, task_root=variant.task_root, python=python)
            stack.callback(service.stop)
            service.start()
            running.append(Running(variant, service))
        yield running


def measure(function: FunctionConfig, rounds: int, calls: int) -> list[Running]:
    """Every variant's warm figures at ``function``'s memory size."""
    with moto_upstream(TABLE) as upstream, started(function, upstream) as running:
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
                    each.routes[route].close_round(start, function.memory_mb)
        for each in running:
            each.service.environment.max_memory_used_mb()  # type: ignore[union-attr]
        return running


def figures_of(running: list[Running], memory_mb: int, label: str = "") -> list[Figure]:
    """The section's rows: per variant and route, each figure; ours with its paired ratios."""
    rows: list[Figure] = []
    for each in running:
        for route, run in each.routes.items():
            for what, unit in ((CPU, "ms"), (DURATION, "ms"), (BILLED, "ms"), (COST, "USD")):
                samples = list(run.per_round[what])
                figure = Figure(SECTION, name(each.variant.name, route, what, label), unit, samples)
                if what == DURATION:
                    p99 = percentile(run.durations, 0.99)
                    figure.note = f"p99 {p99:.2f} ms, n={len(run.durations)}"
                rows.append(figure)
        environment = each.service.environment
        assert environment is not None
        used = [float(environment.peak_memory_mb)]
        note = f"memory size {memory_mb} MB"
        rows.append(
            Figure(SECTION, name(each.variant.name, "", MEMORY, label), "MB", used, note=note)
        )
    keyed = {f.name: f for f in rows}
    for route, what in [(r, w) for r in ROUTES for w in (CPU, DURATION, BILLED, COST)] + [
        ("", MEMORY)
    ]:
        ours, base = (keyed[name(v, route, what, label)] for v in (OURS, POWERTOOLS_NAME))
        pair(ours, base)
    return rows


def name(variant: str, route: str, what: str, label: str = "") -> str:
    """A row's name: ``orders GET /orders/{id}: function CPU`` (``orders: Max Memory Used``)."""
    head = f"{variant} {route}" if route else variant
    return f"{head}: {what}" + (f" {label}" if label else "")


def pair(figure: Figure, base: Figure) -> None:
    """``figure`` compared with ``base`` (same rounds): the paired ratio and its interval."""
    figure.baseline = base.name
    if len(figure.samples) < 2:
        return
    ratios = paired_ratios(figure.samples, base.samples)
    low, high = ratio_interval(ratios)
    note = f"paired ratio {statistics.median(ratios):.2f} (95 % CI {low:.2f}–{high:.2f})"
    figure.note = "; ".join(filter(None, [note, figure.note]))


def run(rounds: int = 7, calls: int = 100) -> list[Figure]:
    """The section of ``make bench``: the stack's memory size, the host's full CPU."""
    function = stack_function(TABLE)
    running = measure(function, rounds, calls)
    return figures_of(running, function.memory_mb)


TARGETS: list[Target] = targets()  # for make bench's goal lines (bench/report.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    print(f"prices: {LAMBDA_ARM64.source} (read {LAMBDA_ARM64.read_on})")
    from bench.report import text_table  # bench.report imports this module's TARGETS

    print(text_table(run(args.rounds, args.calls)))


if __name__ == "__main__":
    main()

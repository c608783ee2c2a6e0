"""What each warm request costs on Lambda: ours against Powertools + boto3 and FastAPI + Mangum.

The project's asset and the two baselines (bench/baselines/, built as the asset is) run as the
stack's function in the same local Lambda runtime (bench/warm_runs.py) and serve warm
``GET /orders/{id}`` (the same order) and unkeyed ``POST /orders`` (a new order each time),
interleaved round by round, beside the runtime's floor (bench/baselines/floor.py: a function
that answers without doing anything; its CPU and cost against Powertools + boto3 are the
lowest ratios any function reaches here). Per variant and route: the function's CPU per
request, REPORT ``Duration`` and billed duration, the cost per million requests at the
project's pinned prices (bench/lambda_cost.py), and ``Max Memory Used`` after the run. Ours
is paired with Powertools + boto3 round by round (the median of per-round ratios, bootstrap
95 % interval).

Three settings, where the host allows the last two (a CPU quota for the runtime's processes,
devtools/lambda_runtime/cgroups.py):

- ``full CPU``: the stack's memory size, the host's CPUs: the function's own work;
- ``CPU share``: the stack's memory size with the share of a vCPU Lambda gives it (1,769 MB =
  one vCPU): the durations and the bill Lambda would show;
- the smaller ``SIZES`` at their share: per variant and route the cheapest memory size whose
  p99 ``Duration`` stays within the route's latency objective (``SLO_MS``), and its cost.

``python -m bench.warm_cost [--rounds N] [--calls N] [--full-cpu-only]`` runs it alone.
"""

from __future__ import annotations

import argparse
import statistics

from bench.lambda_cost import LambdaPrices, Sized, cheapest, lambda_prices, percentile
from bench.snapstart import OURS, POWERTOOLS_NAME
from bench.snapstart import _function as stack_function
from bench.stats import Figure, Target, paired_ratios, ratio_interval
from bench.warm_runs import (
    BILLED,
    COST,
    CPU,
    DURATION,
    FLOOR,
    GET,
    POST,
    ROUTES,
    Running,
    Setting,
    Unscaled,
    measure,
)
from devtools.load.slo import DEFAULTS

SECTION = "warm cost"
TABLE = "orders-bench-warm-cost"
FULL, SHARE = "full CPU", "CPU share"
SIZES = (128, 256, 384)  # tried below the stack's memory size, each at its CPU share
# The routes' latency objective: the load harness's (devtools/load/slo.py), here applied to the
# function's p99 REPORT Duration, the part of the latency the memory size changes.
SLO_MS = {GET: DEFAULTS["get"].p99_ms, POST: DEFAULTS["create"].p99_ms}
MEMORY, CHEAPEST = "Max Memory Used", "cost per 1M at the cheapest size within the SLO"
BASE = "Powertools+boto3"


def name(variant: str, route: str, what: str, label: str) -> str:
    """A row's name: ``orders GET /orders/{id}: function CPU, full CPU``."""
    head = f"{variant} {route}" if route else variant
    return f"{head}: {what}, {label}"


def targets() -> list[Target]:
    """The section's goals against Powertools + boto3 (bench/report.py prints them)."""

    def key(what: str, route: str, label: str) -> str:
        return f"{SECTION}/{name(OURS, route, what, label)}"

    goals = [Target(f"warm function CPU, {route} ≤ 0.7 × {BASE} (paired)", key(CPU, route, FULL),
                    0.7, "<=", paired=True) for route in ROUTES]  # fmt: skip
    goals.append(Target(f"{MEMORY} ≤ 1.0 × {BASE}", key(MEMORY, "", FULL), 1.0, "<="))
    # The bill at the CPU share Lambda gives: absent (with the reason printed) where the host
    # gives the local runtime no CPU quota.
    goals += [
        Target(f"cost per million, {route}, {SHARE} ≤ 0.8 × {BASE} (paired)",
               key(COST, route, SHARE), 0.8, "<=", paired=True)
        for route in ROUTES
    ]  # fmt: skip
    goals += [Target(f"cost per million at each one's cheapest size within the SLO, {route} "
                     f"≤ 0.8 × {BASE}", f"{SECTION}/{OURS} {route}: {CHEAPEST}", 0.8, "<=")
              for route in ROUTES]  # fmt: skip
    return goals


def figures_of(running: list[Running], setting: Setting, label: str) -> list[Figure]:
    """Per variant and route each figure, and Max Memory Used; ours paired with Powertools."""
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
        used = [float(each.max_memory_used_mb)]
        note = f"memory size {setting.memory_mb} MB"
        rows.append(Figure(SECTION, name(each.variant.name, "", MEMORY, label), "MB", used,
                           note=note))  # fmt: skip
    keyed = {f.name: f for f in rows}
    pairs = [(route, what) for route in ROUTES for what in (CPU, DURATION, BILLED, COST)]
    for route, what in [*pairs, ("", MEMORY)]:
        pair(*(keyed[name(v, route, what, label)] for v in (OURS, POWERTOOLS_NAME)))
    # The runtime's floor against Powertools + boto3: the lowest ratio any function reaches.
    for route, what in ((route, what) for route in ROUTES for what in (CPU, COST)):
        pair(*(keyed[name(v, route, what, label)] for v in (FLOOR, POWERTOOLS_NAME)))
    return rows


def pair(figure: Figure, base: Figure) -> None:
    """``figure`` compared with ``base`` (same rounds): the paired ratio and its interval."""
    figure.baseline = base.name
    if len(figure.samples) < 2:
        return
    ratios = paired_ratios(figure.samples, base.samples)
    low, high = ratio_interval(ratios)
    note = f"paired ratio {statistics.median(ratios):.2f} (95 % CI {low:.2f}–{high:.2f})"
    figure.note = "; ".join(filter(None, [note, figure.note]))


def cheapest_rows(runs: dict[int, list[Running]]) -> list[Figure]:
    """Per variant and route, the cost at the cheapest size (of ``runs``, by memory size)
    whose p99 Duration is within the route's objective; the sizes tried in the note."""
    rows: dict[str, Figure] = {}
    for index, variant in enumerate(v.variant.name for v in next(iter(runs.values()))):
        for route in ROUTES:
            sized = {
                memory: (running[index].routes[route], Sized(
                    memory, percentile(running[index].routes[route].durations, 0.99),
                    statistics.median(running[index].routes[route].per_round[COST])))
                for memory, running in sorted(runs.items())
            }  # fmt: skip
            tried = ", ".join(f"{m} MB p99 {s.p99_ms:.0f} ms" for m, (_, s) in sized.items())
            best = cheapest([s for _, s in sized.values()], SLO_MS[route])
            figure = Figure(SECTION, f"{variant} {route}: {CHEAPEST}", "USD")
            if best is not None:
                figure.samples = list(sized[best.memory_mb][0].per_round[COST])
                figure.note = f"{best.memory_mb} MB (SLO p99 ≤ {SLO_MS[route]:.0f} ms; {tried})"
            rows[figure.name] = figure
    for route in ROUTES:
        base = rows[f"{POWERTOOLS_NAME} {route}: {CHEAPEST}"]
        for compared in (OURS, FLOOR):
            rows[f"{compared} {route}: {CHEAPEST}"].baseline = base.name
    return [figure for figure in rows.values() if figure.samples]


def run(
    rounds: int = 7, calls: int = 100, *, sweep_rounds: int = 3, sweep_calls: int = 30,
    cpu_share: bool = True, prices: LambdaPrices | None = None,
) -> list[Figure]:  # fmt: skip
    """The section of ``make bench``: full CPU, then (where the host allows) the CPU share at
    the stack's memory size and at ``SIZES``."""
    prices = prices or lambda_prices()
    function = stack_function(TABLE)
    stack_mb = function.memory_mb
    full = Setting(stack_mb, cpu_share=False)
    rows = figures_of(
        measure(function, TABLE, full, prices, rounds=rounds, calls=calls), full, FULL
    )
    if not cpu_share:
        return rows
    shared = Setting(stack_mb, cpu_share=True)
    try:
        at_stack = measure(function, TABLE, shared, prices, rounds=rounds, calls=calls)
    except Unscaled as why:
        print(f"   warm cost: no CPU share on this host ({why}): full CPU only", flush=True)
        return rows
    rows += figures_of(at_stack, shared, SHARE)
    runs = {stack_mb: at_stack}
    for memory in SIZES:
        setting = Setting(memory, cpu_share=True)
        runs[memory] = measure(function, TABLE, setting, prices, rounds=sweep_rounds,
                               calls=sweep_calls)  # fmt: skip
    return rows + cheapest_rows(runs)


TARGETS: list[Target] = targets()  # for make bench's goal lines (bench/report.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--sweep-rounds", type=int, default=3)
    parser.add_argument("--sweep-calls", type=int, default=30)
    parser.add_argument("--full-cpu-only", action="store_true", help="no CPU share, no sizes")
    args = parser.parse_args()
    from bench.report import text_table  # bench.report imports this module's TARGETS

    prices = lambda_prices()
    print(f"prices: {prices.source} (read {prices.read_on}); SLO p99 {SLO_MS}")
    figures = run(
        args.rounds,
        args.calls,
        sweep_rounds=args.sweep_rounds,
        sweep_calls=args.sweep_calls,
        cpu_share=not args.full_cpu_only,
        prices=prices,
    )
    print(text_table(figures))


if __name__ == "__main__":
    main()

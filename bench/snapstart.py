"""SnapStart against the baselines: each function through the same local Lambda runtime.

The project's asset, Powertools + boto3 and FastAPI + Mangum + boto3 (bench/baselines/, built
as the asset is) run as the stack's function (devtools/lambda_runtime: awslambdaric in Python
3.13, the stack's environment, moto behind the key-checking front, one table) and serve the
same first ``GET /orders/{id}``. Per run and variant, in a rotating order:

- on demand: a fresh environment, ``Init Duration`` and the first invocation's ``Duration``;
- SnapStart: the version published (init and before-snapshot hooks, ``INIT_REPORT``), then
  the first invocation restores it: ``Restore Duration`` (after-restore hooks), the first
  ``Duration`` (credentials fetched from the container endpoint, a new connection to the
  front), and what the Invoke API's caller waits from the restore to the response.

``python -m bench.snapstart --runs N`` runs this section alone; ``--ab A_DIR B_DIR`` compares two
builds of the asset under SnapStart (paired differences B − A with bootstrap 95 % intervals).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bundles import FASTAPI, POWERTOOLS, baseline_bundle
from bench.events import create_event, get_event
from bench.lambda_cost import cpu_ms
from bench.runtime import moto_upstream
from bench.stats import Figure, paired_ratios, ratio_interval
from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.function import FunctionConfig, synthesized_template, table_ids
from devtools.lambda_runtime.local_lambda import LocalLambda

SECTION = "SnapStart"
TABLE = "orders-bench-snapstart"
OWNER = "alice"
OURS = "orders"
POWERTOOLS_NAME = "powertools+boto3"
FIRST_RESPONSE = "SnapStart restore → first response"
FIRST_RESPONSE_CPU = f"{FIRST_RESPONSE}, function CPU"


@dataclass(frozen=True)
class Variant:
    name: str
    task_root: Path
    handler: str


def variants(function: FunctionConfig) -> list[Variant]:
    powertools = artifacts.read_only_copy(baseline_bundle(POWERTOOLS))
    fastapi = artifacts.read_only_copy(baseline_bundle(FASTAPI))
    return [
        Variant(OURS, artifacts.task_root(), function.handler),
        Variant(POWERTOOLS_NAME, powertools, "orders_powertools.handler"),
        Variant("fastapi+mangum+boto3", fastapi, "orders_boto3.handler"),
    ]


def _function(table: str) -> FunctionConfig:
    """The stack's function on ``table``; the baselines read the table's name from
    ``ORDERS_TABLE`` and their endpoint from ``AWS_ENDPOINT_URL_DYNAMODB``, as boto3 does."""
    template = synthesized_template("dev")
    function = FunctionConfig.from_template(template, names={table_ids(template)[0]: table})
    variables = {**function.variables, "LOG_LEVEL": "WARNING", "ORDERS_TABLE": table}
    return function.replace(variables=variables, application_log_level="WARN")


@dataclass
class Figures:
    """One variant's rows."""

    init: Figure
    on_demand_first: Figure
    snapshot_init: Figure
    restore: Figure
    snap_first: Figure
    waited: Figure
    cpu: Figure  # the runtime process's CPU time over the same span: what load does not inflate

    @classmethod
    def of(cls, name: str) -> Figures:
        def figure(what: str) -> Figure:
            # At the host's full CPU, not the share the memory size buys (docs/local-lambda.md).
            return Figure(SECTION, f"{name}: {what}", "ms", note="CPU unscaled (host's)")

        return cls(
            figure("on-demand Init Duration"),
            figure("on-demand first Duration"),
            figure("SnapStart init (INIT_REPORT)"),
            figure("SnapStart Restore Duration"),
            figure("SnapStart first Duration"),
            figure(FIRST_RESPONSE),
            figure(FIRST_RESPONSE_CPU),
        )

    def all(self) -> list[Figure]:
        return [
            self.init,
            self.on_demand_first,
            self.snapshot_init,
            self.restore,
            self.snap_first,
            self.waited,
            self.cpu,
        ]


def _served(result: Any, order_id: str, name: str) -> None:
    document = result.document()
    assert result.function_error is None, (name, document)
    assert document["statusCode"] == 200, (name, document)
    assert json.loads(document["body"])["id"] == order_id, (name, document)


def run(runs: int = 7) -> list[Figure]:
    """The section of ``make bench``: ours and the two baselines, on demand and SnapStart."""
    function = _function(TABLE)
    with moto_upstream(TABLE) as upstream:
        figures = _run(upstream, function, variants(function), runs, on_demand=True)
    ours, powertools = figures[OURS], figures[POWERTOOLS_NAME]
    for figure, base in ((ours.waited, powertools.waited), (ours.cpu, powertools.cpu)):
        figure.baseline = base.name
        ratios = paired_ratios(figure.samples, base.samples)
        low, high = ratio_interval(ratios)
        figure.note = (
            f"{figure.note}; paired ratio to {POWERTOOLS_NAME} {statistics.median(ratios):.2f} "
            f"(95 % CI {low:.2f}–{high:.2f})"
        )
    return [figure for rows in figures.values() for figure in rows.all()]


def ab(a: Path, b: Path, runs: int) -> None:
    """SnapStart only, two builds of the project's asset: paired differences B − A."""
    function = _function(TABLE)
    chosen = [
        Variant(name, artifacts.read_only_copy(bundle.resolve()), function.handler)
        for name, bundle in (("A", a), ("B", b))
    ]
    with moto_upstream(TABLE) as upstream:
        figures = _run(upstream, function, chosen, runs, on_demand=False)
    print(f"N = {runs} pairs, load {os.getloadavg()[0]:.1f}")
    for what in ("snapshot_init", "restore", "snap_first", "waited", "cpu"):
        side_a, side_b = (getattr(figures[name], what) for name in ("A", "B"))
        diffs = [y - x for x, y in zip(side_a.samples, side_b.samples, strict=True)]
        low, high = ratio_interval(diffs)
        print(
            f"{side_a.name.removeprefix('A: ')}: A {side_a.median:,.1f} ms, "
            f"B {side_b.median:,.1f} ms; B − A median {statistics.median(diffs):+,.1f} ms "
            f"(95 % CI {low:+,.1f} … {high:+,.1f})"
        )


def _run(
    upstream: str, function: FunctionConfig, chosen: list[Variant], runs: int, *, on_demand: bool
) -> dict[str, Figures]:
    python = artifacts.runtime_python()
    options: dict[str, Any] = {"task_root": chosen[0].task_root, "python": python}
    creator = LocalLambda(function, upstream, init_type="on-demand", **options)
    try:
        creator.start()
        created = creator.invoke(create_event(OWNER)).document()
    finally:
        creator.stop()
    assert created["statusCode"] == 201, created
    order_id = json.loads(created["body"])["id"]
    event = get_event(OWNER, order_id)
    figures = {v.name: Figures.of(v.name) for v in chosen}
    for turn in range(runs):
        shift = turn % len(chosen)
        for variant in chosen[shift:] + chosen[:shift]:
            config = function.replace(handler=variant.handler)
            rows = figures[variant.name]
            options = {"task_root": variant.task_root, "python": python}
            if on_demand:
                _on_demand(LocalLambda(config, upstream, init_type="on-demand", **options),
                           rows, event, order_id)  # fmt: skip
            _snap_start(LocalLambda(config, upstream, init_type="snap-start", **options),
                        rows, event, order_id)  # fmt: skip
    return figures


def _on_demand(service: LocalLambda, rows: Figures, event: Any, order_id: str) -> None:
    try:
        service.start()
        _served(service.invoke(event), order_id, rows.init.name)
        (report,) = service.reports
        rows.init.samples.append(report.init_duration_ms or 0.0)
        rows.on_demand_first.samples.append(report.duration_ms)
    finally:
        service.stop()


def _snap_start(service: LocalLambda, rows: Figures, event: Any, order_id: str) -> None:
    try:
        service.start()  # published: init and before-snapshot hooks, then frozen
        assert service.environment is not None
        rows.snapshot_init.samples.append(service.environment.init_ms or 0.0)
        process = service.environment.process
        assert process is not None
        cpu = cpu_ms(process.pid)
        started = time.perf_counter()
        result = service.invoke(event)  # restores, then serves
        rows.waited.samples.append((time.perf_counter() - started) * 1000)
        rows.cpu.samples.append(cpu_ms(process.pid) - cpu)
        _served(result, order_id, rows.waited.name)
        (report,) = service.reports
        rows.restore.samples.append(report.restore_duration_ms or 0.0)
        rows.snap_first.samples.append(report.duration_ms)
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.snapstart", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=7, help="runs per variant (%(default)s)")
    parser.add_argument(
        "--ab", nargs=2, type=Path, metavar=("A", "B"), help="two builds of the asset: A/B"
    )
    args = parser.parse_args()
    from bench.report import text_table  # bench.report imports the sections' targets

    if args.ab:
        a, b = args.ab
        ab(a, b, args.runs)
    else:
        print(text_table(run(args.runs)))


if __name__ == "__main__":
    main()

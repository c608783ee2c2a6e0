"""``report.json``, ``report.md`` and ``chart.svg`` for one run (under ``var/load/``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from devtools.load.chart import svg
from devtools.load.plan import Plan
from devtools.load.runner import Outcome
from devtools.load.slo import Objective, verdict
from devtools.load.stats import summary, timeline


def build(
    plan: Plan,
    outcome: Outcome,
    objectives: dict[str, Objective],
    runtime: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report document (schema: docs/load.md)."""
    routes = {
        route: summary([r for r in outcome.records if r.route == route], plan.seconds)
        for route in plan.mix
        if any(r.route == route for r in outcome.records)
    }  # fmt: skip
    return {
        "valid": outcome.invalid_reason is None,
        "invalid_reason": outcome.invalid_reason,
        "plan": plan.document(),
        "generator": {
            "late": outcome.late,
            "max_lag_ms": round(outcome.max_lag * 1000, 3),
            "cpu_ms_per_request": round(outcome.cpu_ms_per_request, 3),
        },
        "routes": routes,
        "overall": summary(outcome.records, plan.seconds),
        "slo": verdict(routes, objectives),
        "runtime": runtime,
        "timeline": timeline(outcome.records, outcome.elapsed),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def exit_code(report: dict[str, Any]) -> int:
    """0: the SLO holds; 1: it does not; 2: the run is invalid."""
    if not report["valid"]:
        return 2
    return 0 if report["slo"]["verdict"] == "met" else 1


def _row(name: str, s: dict[str, Any]) -> str:
    errors = ", ".join(f"{k} {n}" for k, n in s["errors"].items() if n) or "—"
    statuses = " ".join(f"{k}: {n}" for k, n in s["status"].items()) or "—"
    return (
        f"| {name} | {s['offered']} | {s['sent']} | {s['completed']} | {s['dropped']} | "
        f"{s['offered_rate']:g} | {s['achieved_rate']:g} | {s['p50']:.1f} | {s['p90']:.1f} | "
        f"{s['p99']:.1f} | {s['p999']:.1f} | {s['max']:.1f} | {s['service']['p50']:.1f} | "
        f"{s['service']['p99']:.1f} | {s['mean_in_flight']:g} | {statuses} | {errors} |"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report for people: the verdict first (INVALID when the generator fell behind)."""
    plan, slo = report["plan"], report["slo"]
    if not report["valid"]:
        head = (
            f"**INVALID**: {report['invalid_reason']}. The figures below do not describe the plan."
        )
    else:
        head = f"SLO **{slo['verdict']}**."
    mix = ", ".join(f"{k}:{v:g}" for k, v in plan["mix"].items())
    lines = [
        f"# Load run {report['when']}",
        "",
        head,
        "",
        f"Target `{plan['target']}` ({plan['kind']}); {plan['arrival']} arrivals at "
        f"{plan['rate']:g} req/s for {plan['seconds']:g} s (ramp {plan['ramp_seconds']:g} s), "
        f"mix {mix}, seed {plan['seed']}, at most {plan['max_in_flight']} in flight and "
        f"{plan['max_requests']} requests. Generator: {report['generator']['late']} requests "
        f"left late, worst {report['generator']['max_lag_ms']:.1f} ms; its CPU "
        f"{report['generator']['cpu_ms_per_request']:.2f} ms per request.",
        "",
        "Latency in ms from the scheduled time; service time (svc) from the send.",
        "",
        "| route | offered | sent | completed | dropped | offered/s | achieved/s | p50 | p90 "
        "| p99 | p99.9 | max | svc p50 | svc p99 | mean in flight | statuses | errors |",
        "|" + "---|" * 17,
        *(_row(name, s) for name, s in report["routes"].items()),
        _row("**overall**", report["overall"]),
        "",
        "| route | p99 limit ms | p99 ms | error ratio limit | error ratio | met |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {j['p99_ms']:g} | {j['measured_p99_ms']:.1f} | {j['error_ratio']:g} | "
            f"{j['measured_error_ratio']:g} | {'yes' if j['met'] else 'no'} |"
            for name, j in slo["routes"].items()
        ),
    ]
    if report["runtime"] is not None:
        lines += ["", *_runtime(report["runtime"])]
    lines += ["", "![latency and throughput](chart.svg)", ""]
    return "\n".join(lines)


def _runtime(runtime: dict[str, Any]) -> list[str]:
    cpu = runtime["cpu_ms_per_request"]
    lines = [
        "## Local runtime",
        "",
        f"Environments started {runtime['environments_started']}, cold starts "
        f"{runtime['cold_starts']}, restores {runtime['restores']}, peak concurrent "
        f"environments {runtime['peak_environments']}, Lambda throttles "
        f"{runtime.get('throttles', 0)}.",
        "",
        f"CPU per request: emulator {cpu['gateway']:.2f} ms, runtime environments "
        f"{cpu['runtime']:.2f} ms, moto {cpu['moto']:.2f} ms.",
        "",
        "| route | REPORTs | Duration p50 | p99 | mean | Billed mean | Max Memory Used MB | "
        "Init/Restore mean |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for route, r in runtime["reports"].items():
        d = r["duration_ms"]
        lines.append(
            f"| {route} | {r['count']} | {d['p50']:.1f} | {d['p99']:.1f} | {d['mean']:.1f} | "
            f"{r['billed_ms']['mean']:.1f} | {r['max_memory_mb']} | {r['init_ms']['mean']:.1f} |"
        )
    return lines


def write(report: dict[str, Any], folder: Path) -> None:
    """``report.json``, ``report.md`` and ``chart.svg`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (folder / "report.md").write_text(markdown(report))
    title = f"{report['plan']['target']} at {report['plan']['rate']:g} req/s"
    (folder / "chart.svg").write_text(svg(report["timeline"], title))

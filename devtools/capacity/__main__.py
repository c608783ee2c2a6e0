"""``python -m devtools.capacity [--rate R] [--mix hi:1,get:3] [--stage dev]``: the model's
answer on stdout and in ``var/capacity/report.json`` (``make capacity``)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from devtools.capacity.model import Scenario, capacity, store_ms
from devtools.capacity.monthly import bill, largest_lever, sensitivity
from devtools.capacity.prices import PRICES_FILE, Prices
from devtools.capacity.routes import DEFAULTS, measured, parse_mix
from devtools.capacity.stack import Stack, synthesized

LOAD_REPORT = Path("var/load/report.json")
OUT = Path("var/capacity/report.json")
DEFAULT_MIX = "hi:1,get:4,list:2,create:1,pay:1,cancel:0.5,delete:0.5"


def context_knobs(text: str) -> dict[str, str]:
    """``-c key=value -c other=value`` (make's CONTEXT) → {key: value}."""
    words, knobs = shlex.split(text), {}
    for flag, knob in zip(words[::2], words[1::2], strict=False):
        key, sep, value = knob.partition("=")
        if flag not in ("-c", "--context") or not sep:
            raise ValueError(f"CONTEXT: expected -c key=value, not {flag} {knob}")
        knobs[key] = value
    return knobs


def report(
    scenario: Scenario, stack: Stack, load: dict[str, Any] | None, prices: Prices
) -> dict[str, Any]:
    """The whole answer as one JSON-ready dict."""
    figures, local = measured(load) if load else (dict(DEFAULTS), None)
    if scenario.local_store_ms is None and local is not None:
        import dataclasses

        scenario = dataclasses.replace(scenario, local_store_ms=local)
    answer = capacity(scenario, stack, figures, prices)
    answer.update(bill(scenario, stack, figures, prices))
    answer["largest_lever"] = largest_lever(answer, scenario)
    answer["store_latency_sensitivity"] = sensitivity(scenario, stack, figures, prices)
    answer["inputs"] = {
        "rate_per_s": scenario.rate,
        "peak_factor": scenario.peak,
        "mix": dict(scenario.mix),
        "owner_share": scenario.owner_share,
        "store_ms": store_ms(scenario, prices),
        "local_store_ms": scenario.local_store_ms,
        "arrival": scenario.arrival,
        "stack": stack.describe(),
        "routes": {r: {**vars_of(figures[r])} for r in scenario.mix},
        "region": prices.region,
        "prices": prices.cited(),
    }
    return answer


def vars_of(figures: Any) -> dict[str, Any]:
    return {name: getattr(figures, name) for name in figures.__slots__}


def summary(answer: dict[str, Any]) -> str:
    """The answer in a few lines."""
    c, t, d = answer["concurrency"], answer["throttled_share"], answer["dynamodb"]
    hot = d["hot_partition"]
    lines = [
        f"concurrency: {c['mean']:.2f} environments busy on average "
        f"({c['offered_erlangs']:.2f} offered) of {c['limit']}; peak over "
        f"{c['run_seconds']:g} s ≈ {c['peak_in_run']}; "
        f"{c['environments_for_1pct_throttle']} would keep throttles under 1 %",
        f"throttled: API Gateway 429 {t['api_gateway']:.1%}, Lambda {t['lambda']:.1%}, "
        f"total {t['total']:.1%}",
        f"API Gateway: {answer['api_gateway']['requests_per_s']:.1f} req/s, "
        f"{answer['api_gateway']['share_of_quota']:.2%} of the account's 10,000 req/s",
        f"DynamoDB: {d['read_units_per_s']:.1f} RRU/s, {d['write_units_per_s']:.1f} WRU/s; "
        f"hottest owner {hot['read_share_of_partition']:.2%} of a partition's reads, "
        f"{hot['write_share_of_partition']:.2%} of its writes; "
        f"{d['table_max_share']:.0%} of the table's on-demand maximum",
        "monthly (USD): "
        + ", ".join(f"{k} {v:.2f}" for k, v in answer["monthly_cost_usd"].items()),
        "per million requests (USD): "
        + ", ".join(f"{k} {v:.2f}" for k, v in answer["cost_per_million_usd"].items()),
        f"largest lever: {answer['largest_lever']}",
        "DynamoDB latency → environments, total $: "
        + "; ".join(
            f"{row['store_ms']:g} ms → {row['concurrency']:.2f}, {row['total_usd']:.2f}"
            for row in answer["store_latency_sensitivity"]
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Capacity and monthly cost of the stack.")
    parser.add_argument("--rate", type=float, default=10.0, help="mean requests a second")
    parser.add_argument("--mix", default=DEFAULT_MIX, help="route:weight,… (hi alone: hi)")
    parser.add_argument("--peak", type=float, default=1.0, help="peak rate = rate x this")
    parser.add_argument("--owner-share", type=float, default=0.01)
    parser.add_argument("--store-ms", type=float, help="DynamoDB latency per call on AWS")
    parser.add_argument("--arrival", choices=["poisson", "constant"], default="poisson")
    parser.add_argument("--stage", choices=["dev", "prod"], default="dev")
    parser.add_argument("--context", default="", help='CDK knobs: "-c key=value …"')
    parser.add_argument("--load-report", type=Path, default=LOAD_REPORT)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        if not args.rate >= 0 or not args.peak >= 1 or not 0 <= args.owner_share <= 1:
            raise ValueError("RATE must be ≥ 0, the peak factor ≥ 1, the owner share 0..1")
        mix = parse_mix(args.mix)
        knobs = context_knobs(args.context)
    except ValueError as error:
        print(f"make capacity: {error}", file=sys.stderr)
        return 2
    load = json.loads(args.load_report.read_text()) if args.load_report.is_file() else None
    if load is not None and not load.get("valid", False):
        print(f"{args.load_report}: the run was invalid; using the defaults", file=sys.stderr)
        load = None
    source = str(args.load_report) if load else "defaults (devtools/capacity/routes.py)"
    scenario = Scenario(
        args.rate, mix, args.peak, args.owner_share, args.store_ms, arrival=args.arrival
    )
    stack = synthesized(args.stage, knobs or None)
    answer = report(scenario, stack, load, Prices.load(PRICES_FILE))
    answer["inputs"]["figures_from"] = source
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(answer, indent=2) + "\n")
    print(f"{args.stage} stage, {args.rate:g} req/s (peak x {args.peak:g}), figures: {source}")
    print(summary(answer))
    print(f"→ {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

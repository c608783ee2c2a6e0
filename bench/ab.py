"""A/B cold start of two bundles of the project: paired, interleaved, the difference's interval.

``python -m bench.ab A_DIR B_DIR [--runs N]`` starts each bundle's ``app.aws_lambda.handler``
as bench/coldstart.py does (fresh ``python3.13 -I -S -B``, first ``GET /orders/{id}`` against
moto's server), A and B back to back in alternating order, and prints the median of the paired
differences B − A (spawn → response, and import + init alone) with a bootstrap 95 % interval.
A change is measured by copying the shipped bundle to B and changing only that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from bench.bundles import python313
from bench.coldstart import OWNER, child_env, cold_call, moto_table
from bench.events import create_event, get_event
from bench.stats import ratio_interval

MODULE = "app.aws_lambda.handler"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="bundle A (a folder holding app/)")
    parser.add_argument("b", type=Path, help="bundle B, compared with A")
    parser.add_argument("--runs", type=int, default=20, help="pairs of cold starts (%(default)s)")
    args = parser.parse_args()
    python = python313()
    walls: dict[str, list[float]] = {"a": [], "b": []}
    cpus: dict[str, list[float]] = {"a": [], "b": []}
    inits: dict[str, list[float]] = {"a": [], "b": []}
    with moto_table() as endpoint:
        env = child_env(endpoint)
        _, created = cold_call(python, args.a, MODULE, create_event(OWNER), env)
        event = get_event(OWNER, json.loads(created["body"])["id"])
        for turn in range(args.runs):
            order = ("a", "b") if turn % 2 == 0 else ("b", "a")
            for side in order:
                wall, report = cold_call(python, getattr(args, side), MODULE, event, env)
                assert report["status"] == 200, (side, report)
                walls[side].append(wall)
                cpus[side].append(report["cpu_ms"])
                inits[side].append(report["import_ms"])
    load = os.getloadavg()[0]
    print(f"N = {args.runs} pairs, load {load:.1f}")
    for label, samples in (
        ("CPU until the response", cpus),
        ("spawn → response", walls),
        ("import + init", inits),
    ):
        diffs = [b - a for a, b in zip(samples["a"], samples["b"], strict=True)]
        ratios = [b / a for a, b in zip(samples["a"], samples["b"], strict=True)]
        low, high = ratio_interval(diffs)
        print(
            f"{label}: A {statistics.median(samples['a']):,.0f} ms, "
            f"B {statistics.median(samples['b']):,.0f} ms; "
            f"B − A median {statistics.median(diffs):+,.0f} ms "
            f"(95 % CI {low:+,.0f} … {high:+,.0f}); B / A median {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()

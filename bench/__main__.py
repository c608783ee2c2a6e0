"""``python -m bench``: every benchmark of ``make bench``, one table, a Markdown report, a chart.

Writes ``var/bench/report.md`` and ``var/bench/chart.png`` (git-ignored). Sections run one after
another; within a section the variants are interleaved run by run.
``--quick`` cuts repetitions (a smoke run of the harness, not figures to quote).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import coldstart, greeting, runtime, size, snapstart, throughput, warm, warm_cost
from bench.report import chart, markdown, text_table
from bench.stats import Figure

OUT = Path(__file__).resolve().parent.parent / "var" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs and calls: a rough table in minutes"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for report.md and chart.png (%(default)s)"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="sections: size cold runtime snapstart warm cost throughput greeting",
    )
    args = parser.parse_args()
    q = args.quick
    sections: dict[str, Callable[[], list[Figure]]] = {
        "size": size.run,
        "cold": lambda: coldstart.run(runs=3 if q else 15),
        "runtime": lambda: runtime.run(runs=1 if q else 5, calls=20 if q else 200),
        "snapstart": lambda: snapstart.run(runs=1 if q else 7),
        "warm": lambda: warm.run(rounds=3 if q else 15, calls=300 if q else 2000),
        "cost": lambda: warm_cost.run(
            rounds=2 if q else 7,
            calls=10 if q else 100,
            sweep_rounds=1 if q else 3,
            sweep_calls=10 if q else 30,
        ),
        "throughput": lambda: throughput.run(rounds=1 if q else 3, seconds=1 if q else 3),
        "greeting": lambda: greeting.run(runs=1 if q else 3),
    }
    figures: list[Figure] = []
    for name, section in sections.items():
        if args.only is not None and name not in args.only:
            continue
        started = time.perf_counter()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        figures += section()
        print(f"   {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    chart(figures, args.out / "chart.png")
    report = markdown(figures, "make bench", "chart.png")
    (args.out / "report.md").write_text(report)
    print(text_table(figures))
    print(f"\nreport: {args.out / 'report.md'}  chart: {args.out / 'chart.png'}")


if __name__ == "__main__":
    main()

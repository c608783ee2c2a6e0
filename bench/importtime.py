"""Where a cold start spends its imports: ``python -X importtime`` on a Lambda bundle.

``python -m bench.importtime [--runs N] [--variant NAME]`` starts the cold-start child (the
same ``python3.13 -I -S -B``, the same first ``GET /orders/{id}`` against moto) with
``-X importtime`` N times and prints, as medians over the runs, the self time per top-level
package (the module bodies' own work: pydantic models built at import count for the module
that defines them) and the slowest single modules. Default variant: the project's asset.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
from collections import defaultdict

from bench.bundles import python313
from bench.coldstart import CHILD, OWNER, child_env, cold_call, moto_table, variants
from bench.events import create_event, get_event, hi_event

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def parse(stderr: str) -> tuple[dict[str, float], dict[str, str]]:
    """Self milliseconds per module, and which outside module first imported each package."""
    lines = [(len(m[3]), m[4], int(m[1]) / 1000) for m in LINE.finditer(stderr)]
    selfs: dict[str, float] = {}
    via: dict[str, str] = {}
    for index, (depth, module, ms) in enumerate(lines):
        selfs[module] = selfs.get(module, 0.0) + ms
        package = module.split(".")[0]
        # -X importtime prints a module after its imports: its importer is the next shallower line
        parent = next((m for d, m, _ in lines[index + 1 :] if d < depth), "<main>")
        if parent.split(".")[0] != package:
            via.setdefault(package, parent)
    return selfs, via


def run(runs: int, name: str) -> None:
    python = python313()
    chosen = {v.name: v for v in variants()}
    ours, variant = chosen["orders"], chosen[name]
    per_package: dict[str, list[float]] = defaultdict(list)
    per_module: dict[str, list[float]] = defaultdict(list)
    totals, walls, firsts = [], [], []
    via: dict[str, str] = {}
    with moto_table() as endpoint:
        env = child_env(endpoint)
        _, created = cold_call(python, ours.bundle, ours.module, create_event(OWNER), env)
        order = get_event(OWNER, json.loads(created["body"])["id"])
        event = order if variant.order else hi_event()
        for _ in range(runs):
            done = subprocess.run(  # noqa: S603 - fixed argv
                [python, "-I", "-S", "-B", "-X", "importtime", str(CHILD), str(variant.bundle),
                 variant.module],
                input=json.dumps(event), capture_output=True, text=True, env=env, check=True,
            )  # fmt: skip
            # The child's report is its last line (the handler's EMF metrics line comes before).
            report = json.loads(done.stdout.splitlines()[-1])
            assert report["status"] == 200, report
            walls.append(report["import_ms"])
            firsts.append(report["first_call_ms"])
            selfs, first = parse(done.stderr)
            via.update(first)
            totals.append(sum(selfs.values()))
            packages: dict[str, float] = defaultdict(float)
            for module, ms in selfs.items():
                packages[module.split(".")[0]] += ms
            for package, ms in packages.items():
                per_package[package].append(ms)
            for module, ms in selfs.items():
                per_module[module].append(ms)
    print(f"{name}: {runs} runs; medians. import + init {statistics.median(walls):,.0f} ms, "
          f"first call {statistics.median(firsts):,.0f} ms; -X importtime self times sum to "
          f"{statistics.median(totals):,.0f} ms (init work done at import included)")  # fmt: skip
    for title, table, top in (("package", per_package, 25), ("module", per_module, 20)):
        print(f"\n{'self ms':>8}  {title}")
        ranked = sorted(table.items(), key=lambda kv: -statistics.median(kv[1]))
        for key, samples in ranked[:top]:
            origin = f"  (via {via[key]})" if title == "package" and key in via else ""
            print(f"{statistics.median(samples):8.1f}  {key}{origin}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.importtime", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters (%(default)s)")
    parser.add_argument("--variant", default="orders", help="a cold-start variant's name")
    args = parser.parse_args()
    run(args.runs, args.variant)


if __name__ == "__main__":
    main()

"""Cold start: fresh processes importing a Lambda handler from its bundle, first event served.

Each run is a new ``python3.13 -I -S -B`` (no site, no bytecode written: Lambda's /var/task is
read-only) with only the bundle on ``sys.path``, timed from spawn to the response line on stdout.
Every bundle is built alike (bench/bundles.py: locked wheels, unchecked-hash bytecode by the same
CPython). Variants, interleaved run by run in a rotating order: the project's asset, Powertools'
event handler + boto3 and FastAPI + Mangum + boto3 (the same ``GET /orders/{id}``: one GetItem
against moto's DynamoDB server in this process), the FastAPI + Mangum and Starlette + Mangum
hello worlds (``GET /hi``), and the bare interpreter (``-c pass``, timed to exit).

``python -m bench.coldstart --runs N`` runs this section alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bundles import FASTAPI, POWERTOOLS, baseline_bundle, host_bundle, python313
from bench.events import create_event, get_event, hi_event
from bench.report import text_table
from bench.stats import Figure, paired_ratios, ratio_interval
from devtools.ports import free_port

SECTION = "cold start"
CHILD = Path(__file__).with_name("cold_child.py")
REGION = "us-east-1"
TABLE = "orders-bench"
OWNER = "alice"
HELLO = "hello fastapi+mangum"  # the FastAPI floor: no store, no settings, one route


@contextmanager
def moto_table() -> Iterator[str]:
    """moto's DynamoDB server on a free port with the project's table; yields the endpoint."""
    from moto.server import ThreadedMotoServer

    from app.store.dynamodb.admin import create_table
    from app.store.dynamodb.config import DynamoDBConfig

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        env = child_env(endpoint)
        with _environ({name: value for name, value in env.items() if name.startswith("AWS_")}):
            # moto builds its DynamoDB backend on the first request: seconds on a loaded machine.
            patient = env["STORE_URL"] + "&read_timeout=20&retry_budget=25"
            asyncio.run(create_table(DynamoDBConfig.from_url(patient)))
        yield endpoint
    finally:
        server.stop()


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in this process's environment for the block (the store reads it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def child_env(endpoint: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "STORE_URL": f"dynamodb://{TABLE}?region={REGION}&endpoint={endpoint}",
        "IDENTITY_MODE": "gateway",
        "LOG_LEVEL": "WARNING",
        "ORDERS_TABLE": TABLE,
        "DYNAMODB_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": "orders-api-bench",
    }


def cold_call(
    python: str, bundle: Path, module: str, event: dict[str, Any], env: dict[str, str]
) -> tuple[float, dict[str, Any]]:
    """Milliseconds from spawn to the first response, and the child's report."""
    with tempfile.TemporaryFile("w+") as stdin, tempfile.TemporaryFile("w+") as stderr:
        stdin.write(json.dumps(event))
        stdin.seek(0)
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [python, "-I", "-S", "-B", str(CHILD), str(bundle), module],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line.startswith('{"_aws"'):  # the request's EMF metrics line comes first
            line = proc.stdout.readline()
        elapsed = (time.perf_counter() - started) * 1000
        proc.stdout.read()
        proc.wait(timeout=60)
        stderr.seek(0)
        if not line:
            raise RuntimeError(f"{module} from {bundle} answered nothing:\n{stderr.read()}")
    report: dict[str, Any] = json.loads(line)
    return elapsed, report


def bare_python(python: str) -> float:
    started = time.perf_counter()
    subprocess.run([python, "-I", "-S", "-B", "-c", "pass"], check=True)  # noqa: S603
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class Variant:
    name: str
    bundle: Path
    module: str
    order: bool  # serves GET /orders/{id} (else GET /hi)
    note: str = ""


def variants() -> list[Variant]:
    ours, fastapi, powertools = host_bundle(), baseline_bundle(FASTAPI), baseline_bundle(POWERTOOLS)
    hello = "GET /hi, no AWS SDK"
    return [
        Variant("orders", ours, "app.aws_lambda.handler", order=True),
        Variant("powertools+boto3", powertools, "orders_powertools", order=True),
        Variant("fastapi+mangum+boto3", fastapi, "orders_boto3", order=True),
        Variant(HELLO, fastapi, "hello_mangum", order=False, note=hello),
        Variant("hello starlette+mangum", fastapi, "hello_starlette", order=False, note=hello),
    ]


def run(runs: int = 15, cpu: dict[str, list[float]] | None = None) -> list[Figure]:
    """``runs`` interleaved cold starts of each variant against moto's server.

    ``cpu`` (if given) receives each variant's CPU milliseconds until the response, run by run:
    on a shared machine, wall time also counts waiting for a core.
    """
    python = python313()
    chosen = variants()
    with moto_table() as endpoint:
        env = child_env(endpoint)
        _, created = cold_call(python, chosen[0].bundle, chosen[0].module, create_event(OWNER), env)
        assert created["status"] == 201, created
        order_id = json.loads(created["body"])["id"]
        events = {True: get_event(OWNER, order_id), False: hi_event()}
        figures = {v.name: Figure(SECTION, v.name, "ms", note=v.note) for v in chosen}
        figures["orders"].baseline = "powertools+boto3"
        floor = Figure(SECTION, "python -c pass", "ms", note="floor")
        imports: dict[str, list[float]] = {v.name: [] for v in chosen}
        cpus = cpu if cpu is not None else {}
        cpus.update({v.name: [] for v in chosen})
        for turn in range(runs):
            shift = turn % len(chosen)  # no variant always runs first or after the same one
            for variant in chosen[shift:] + chosen[:shift]:
                ms, report = cold_call(
                    python, variant.bundle, variant.module, events[variant.order], env
                )
                assert report["status"] == 200, (variant.name, report)
                if variant.order:
                    assert json.loads(report["body"])["id"] == order_id, (variant.name, report)
                figures[variant.name].samples.append(ms)
                imports[variant.name].append(report["import_ms"])
                cpus[variant.name].append(report["cpu_ms"])
            floor.samples.append(bare_python(python))
    for name, figure in figures.items():
        init = (
            f"import + init {statistics.median(imports[name]):,.0f} ms, "
            f"CPU until the response {statistics.median(cpus[name]):,.0f} ms (medians)"
        )
        figure.note = "; ".join(filter(None, [figure.note, init]))
    ours, naive = figures["orders"], figures["fastapi+mangum+boto3"]
    per_run = paired_ratios(ours.samples, figures[HELLO].samples)
    low, high = ratio_interval(per_run)
    per_run_cpu = paired_ratios(cpus["orders"], cpus[HELLO])
    cpu_low, cpu_high = ratio_interval(per_run_cpu)
    ours.note = (
        f"{ours.median / naive.median:.2f} × fastapi+mangum+boto3; paired ratio to {HELLO} "
        f"{statistics.median(per_run):.2f} (95 % CI {low:.2f}–{high:.2f}), CPU until the "
        f"response {statistics.median(per_run_cpu):.2f} ({cpu_low:.2f}–{cpu_high:.2f}); "
        f"{ours.note}"
    )
    return [*figures.values(), floor]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.coldstart", description="Cold start alone (the table of make bench)."
    )
    parser.add_argument("--runs", type=int, default=15, help="interleaved runs per variant")
    args = parser.parse_args()
    cpu: dict[str, list[float]] = {}
    figures = run(runs=args.runs, cpu=cpu)
    print(text_table(figures))
    by_name = {f.name: f.samples for f in figures}
    for other in ("powertools+boto3", "fastapi+mangum+boto3", "hello fastapi+mangum"):
        for label, samples in (("spawn → response", by_name), ("CPU", cpu)):
            paired = paired_ratios(samples["orders"], samples[other])
            low, high = ratio_interval(paired)
            print(
                f"orders / {other} ({label}): median of per-run ratios "
                f"{statistics.median(paired):.2f} (95 % CI {low:.2f}–{high:.2f})"
            )


if __name__ == "__main__":
    main()

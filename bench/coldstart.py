"""Cold start: fresh processes importing a Lambda handler from its bundle, first event served.

Each run is a new ``python3.13 -I -S -B`` (no site, no bytecode written: Lambda's /var/task is
read-only) with only the bundle on ``sys.path``, timed from spawn to the response line on stdout.
Variants, interleaved run by run: the project's asset (hash-based .pyc as shipped), the
FastAPI + Mangum + boto3 baseline installed the usual way, and the bare interpreter
(``-c pass``, timed to exit). Orders live in moto's DynamoDB server in this process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.bundles import baseline_bundle, host_bundle, python313
from bench.events import create_event, get_event
from bench.stats import Figure
from devtools.ports import free_port

SECTION = "cold start"
CHILD = Path(__file__).with_name("cold_child.py")
REGION = "us-east-1"
TABLE = "orders-bench"
OWNER = "alice"


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
            asyncio.run(create_table(DynamoDBConfig.from_url(env["STORE_URL"])))
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


def run(runs: int = 15) -> list[Figure]:
    """``runs`` interleaved cold starts of each variant against moto's server."""
    python = python313()
    ours, baseline = host_bundle(), baseline_bundle()
    with moto_table() as endpoint:
        env = child_env(endpoint)
        _, created = cold_call(python, ours, "app.aws_lambda.handler", create_event(OWNER), env)
        assert created["status"] == 201, created
        order_id = json.loads(created["body"])["id"]
        event = get_event(OWNER, order_id)
        figures = {
            "orders": Figure(SECTION, "orders", "ms", baseline="fastapi+mangum+boto3"),
            "fastapi+mangum+boto3": Figure(SECTION, "fastapi+mangum+boto3", "ms"),
            "python -c pass": Figure(SECTION, "python -c pass", "ms", note="floor"),
        }
        imports: list[float] = []
        for _ in range(runs):
            ms, report = cold_call(python, ours, "app.aws_lambda.handler", event, env)
            assert report["status"] == 200, report
            assert json.loads(report["body"])["id"] == order_id
            figures["orders"].samples.append(ms)
            imports.append(report["import_ms"])
            ms, report = cold_call(python, baseline, "orders_boto3", event, env)
            assert report["status"] == 200, report
            assert json.loads(report["body"])["id"] == order_id
            figures["fastapi+mangum+boto3"].samples.append(ms)
            figures["python -c pass"].samples.append(bare_python(python))
        imports.sort()
        figures["orders"].note = f"import + init {imports[len(imports) // 2]:.0f} ms (median)"
    return list(figures.values())


if __name__ == "__main__":
    for figure in run(runs=5):
        print(f"{figure.name:24s} {figure.median:8.1f} {figure.unit} {figure.samples}")

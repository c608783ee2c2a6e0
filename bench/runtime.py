"""The local Lambda runtime: init, restore and warm invocations, beside the in-process handler.

Through the runtime (devtools/lambda_runtime: awslambdaric in Python 3.13, the built asset,
moto behind the key-checking front), from Lambda's own REPORT figures:

- ``Init Duration`` of on-demand cold starts (``runs`` fresh environments);
- SnapStart: the init captured in the snapshot (``INIT_REPORT``) and ``Restore Duration``;
- warm ``Duration`` of ``GET /hi`` and ``GET /orders/{id}`` (DynamoDB), and the same calls'
  round trip as the Invoke API's caller sees it (event to the runtime and response back).

In-process, the same events through ``build_handler``'s handler in this interpreter (the
project's .venv), on the same table behind the same front: the handler's own cost.

Usage: ``python -m bench.runtime [--runs 3] [--calls 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.aws_lambda.factory import build_handler
from app.config import Settings
from app.store.dynamodb.admin import create_table
from app.store.dynamodb.config import DynamoDBConfig
from bench.events import create_event, get_event, hi_event
from bench.stats import Figure
from devtools.lambda_runtime.function import FunctionConfig, synthesized_template, table_ids
from devtools.lambda_runtime.local_lambda import LocalLambda
from devtools.moto_server import SerializedMotoServer

SECTION = "local Lambda runtime"
# The environments run at the host's full CPU, not the share 512 MB buys on Lambda (0.29 vCPU:
# LocalLambda(scale_cpu=True), docs/local-lambda.md#cpu-and-memory).
HOST_CPU = "CPU unscaled (host's)"
TABLE = "orders-bench-runtime"
OWNER = "alice"
Call = Callable[[dict[str, Any]], dict[str, Any]]


def _function(table: str) -> FunctionConfig:
    template = synthesized_template("dev")
    function = FunctionConfig.from_template(template, names={table_ids(template)[0]: table})
    variables = {**function.variables, "GREET_DELAY": "0", "LOG_LEVEL": "WARNING"}
    return function.replace(variables=variables, application_log_level="WARN")


def _ms(call: Call, event: dict[str, Any], calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        response = call(copy.copy(event))
        samples.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    return samples


@contextmanager
def moto_upstream(table: str) -> Iterator[str]:
    """moto's server (requests serialised, as in the tests) holding ``table``; yields its URL,
    the upstream of the runtime's signing front."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = SerializedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    upstream = f"http://{host}:{port}"
    try:
        asyncio.run(create_table(DynamoDBConfig(table, "us-east-1", upstream, read_timeout=25)))
        yield upstream
    finally:
        server.stop()


def run(runs: int = 3, calls: int = 200) -> list[Figure]:
    function = _function(TABLE)
    init = Figure(SECTION, "on-demand Init Duration", "ms", note=HOST_CPU)
    snapshot_init = Figure(SECTION, "SnapStart init (INIT_REPORT)", "ms", note=HOST_CPU)
    restore = Figure(SECTION, "SnapStart Restore Duration", "ms", note=HOST_CPU)
    with moto_upstream(TABLE) as upstream:
        for _ in range(runs):
            on_demand = LocalLambda(function, upstream, init_type="on-demand")
            try:
                on_demand.start()
                assert on_demand.invoke(hi_event()).document()["statusCode"] == 200
                init.samples.append(on_demand.reports[0].init_duration_ms or 0.0)
            finally:
                on_demand.stop()
        service = LocalLambda(function, upstream, init_type="snap-start")
        try:
            service.start()
            created = service.invoke(create_event(OWNER)).document()
            assert created["statusCode"] == 201, created
            environment = service.environment
            assert environment is not None
            snapshot_init.samples.append(environment.init_ms or 0.0)
            restore.samples.append(service.reports[0].restore_duration_ms or 0.0)
            order_event = get_event(OWNER, json.loads(created["body"])["id"])
            warm = _warm(service, order_event, calls)
        finally:
            service.stop()
    return [init, snapshot_init, restore, *warm]


def _warm(service: LocalLambda, order_event: dict[str, Any], calls: int) -> list[Figure]:
    def through_runtime(event: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = service.invoke(event).document()
        return document

    # The same handler in this process, on the same table behind the same front.
    key = service.keys.issue(3600, "environment")
    os.environ.update(
        AWS_ACCESS_KEY_ID=key.access_key_id,
        AWS_SECRET_ACCESS_KEY=key.secret_access_key,
        AWS_SESSION_TOKEN=key.session_token,
    )
    url = f"dynamodb://{TABLE}?endpoint={service.front_url}&region=us-east-1"
    handler = build_handler(Settings(store_url=url, greet_delay=0, identity_mode="gateway"))
    logging.getLogger("app").setLevel(logging.WARNING)

    def in_process(event: dict[str, Any]) -> dict[str, Any]:
        return handler(event, None)

    figures = []
    try:
        for label, event in (("GET /hi", hi_event()), ("GET /orders/{id}", order_event)):
            _ms(through_runtime, event, 10)  # warm up both
            _ms(in_process, event, 10)
            reports_before = service.reports.total
            runtime_trip = _ms(through_runtime, event, calls)
            reported = [r.duration_ms for r in service.reports.since(reports_before)]
            local = _ms(in_process, event, calls)
            base = f"in-process {label}"
            figures += [
                Figure(
                    SECTION,
                    f"runtime {label}: REPORT Duration",
                    "ms",
                    reported,
                    baseline=base,
                    note=HOST_CPU,
                ),
                Figure(SECTION, f"runtime {label}: Invoke round trip", "ms", runtime_trip),
                Figure(SECTION, base, "ms", local, note="Python 3.11, this process"),
            ]
    finally:
        handler.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runtime", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per variant (%(default)s)")
    parser.add_argument(
        "--calls", type=int, default=200, help="warm invocations per run (%(default)s)"
    )
    args = parser.parse_args()
    for figure in run(args.runs, args.calls):
        spread = f"range {figure.low:.2f}-{figure.high:.2f}, n={len(figure.samples)}"
        print(
            f"  {figure.name:46s} median {figure.median:8.2f} {figure.unit}  "
            f"p90 {figure.p90:8.2f}  ({spread})"
        )


if __name__ == "__main__":
    main()

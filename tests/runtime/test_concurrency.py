"""Concurrent invocations as Lambda serves them: an execution environment each (one invocation
at a time per environment) up to the function's reserved concurrency, throttled beyond it, and
API Gateway's answer to a throttled invocation (500)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from devtools.lambda_runtime.function import FunctionConfig, Template
from devtools.lambda_runtime.local_lambda import LocalLambda
from tests.runtime.conftest import StartLambda, gateway

DELAY = 5.0  # longer than a local init, so that every greeting is in flight at once


def greet_concurrently(base_url: str, count: int) -> tuple[list[httpx.Response], float]:
    """``count`` concurrent ``GET /hi``: the answers (in completion order) and the wall time."""
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(lambda _: httpx.get(f"{base_url}/hi", timeout=60), range(count)))
    return answers, time.monotonic() - started


def test_the_reserved_concurrency_comes_from_the_template(template: Template) -> None:
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    reserved = function["Properties"]["ReservedConcurrentExecutions"]
    config = FunctionConfig.from_template(template)
    assert config.reserved_concurrency == reserved
    for function, limit in [
        (config, reserved),
        (config.replace(reserved_concurrency=None), 1000),  # unreserved: the account's quota
        (config.replace(reserved_concurrency=0), 0),  # Lambda throttles every invocation
    ]:
        service = LocalLambda(function, "http://127.0.0.1:1")
        try:
            assert service.concurrency_limit == limit
        finally:
            service.stop()  # never started: closes its sockets


@pytest.mark.parametrize("init_type", ["on-demand", "snap-start"])
def test_concurrent_greetings_get_an_environment_each_then_are_throttled(
    init_type: str, orders_function: FunctionConfig, start_lambda: StartLambda, tmp_path: Path
) -> None:
    reserved = 3
    function = orders_function.replace(
        variables={**orders_function.variables, "GREET_DELAY": f"{DELAY:g}"},
        reserved_concurrency=reserved,
    )
    service = start_lambda(function, init_type=init_type)
    with gateway(service, tmp_path) as (base_url, _):
        served, wall = greet_concurrently(base_url, reserved)
        beyond, wall_beyond = greet_concurrently(base_url, reserved + 2)
    print(
        f"\n{init_type}: {reserved} concurrent: {[r.status_code for r in served]} in {wall:.2f} s;"
        f" {reserved + 2}: {sorted(r.status_code for r in beyond)} in {wall_beyond:.2f} s"
    )
    assert [r.status_code for r in served] == [200] * reserved
    assert wall < reserved * DELAY  # not one after the other
    first = service.spans[:reserved]
    assert sorted(s.environment for s in first) == list(range(reserved))  # one each
    assert max(s.delivered for s in first) < min(s.finished for s in first)  # all at once
    started = "init_duration_ms" if init_type == "on-demand" else "restore_duration_ms"
    assert all(getattr(r, started) is not None for r in service.reports[:reserved])
    # Beyond the reservation: the warm environments serve, Lambda throttles the rest and
    # API Gateway answers those as it answers any refused invocation.
    assert sorted(r.status_code for r in beyond) == [200] * reserved + [500] * 2
    refused = [r.json() for r in beyond if r.status_code == 500]
    assert refused == [{"message": "Internal Server Error"}] * 2
    assert service.throttles == 2
    assert len(service.environments) == reserved
    assert all(getattr(r, started) is None for r in service.reports[reserved:])  # warm

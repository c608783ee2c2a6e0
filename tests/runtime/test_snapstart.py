"""SnapStart's lifecycle with the app: keys rotate at the restore, connections and keys go
stale, the environment shuts down; none of it may cost a request an error."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.errors import ExpiredToken
from aiodynamo.http.httpx import HTTPX

from app.aws_lambda.priming import OWNER as PRIMING_OWNER
from app.store.dynamodb.admin import table_status
from app.store.dynamodb.client import DynamoDBClient
from devtools.gateway.events import routed_event
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.local_lambda import LocalLambda
from tests.runtime.checks import (
    Run,
    check_the_runtime_process_has_lambdas_environment,
    check_the_runtime_runs_the_asset_from_a_read_only_task_root,
)
from tests.runtime.conftest import Runtime, StartLambda, gateway
from tests.support import order_body

HOST = [("host", "abc123.execute-api.us-east-1.amazonaws.com")]


def create_event(owner: str) -> dict[str, Any]:
    return routed_event(
        "POST",
        "/orders",
        headers=[*HOST, ("content-type", "application/json")],
        body=json.dumps(order_body("flat white")).encode(),
        claims={"sub": owner},
    )


def status(service: LocalLambda, event: dict[str, Any]) -> int:
    result = service.invoke(event)
    assert result.function_error is None, result.payload
    code: int = result.document()["statusCode"]
    return code


def table_exists(service: LocalLambda, function: FunctionConfig, key: Key) -> bool:
    table = function.variables["STORE_URL"].removeprefix("dynamodb://")

    async def ask() -> bool:
        async with httpx.AsyncClient() as http:
            client = DynamoDBClient(
                HTTPX(http), StaticCredentials(key), "us-east-1", endpoint=service.front_url
            )
            return await table_status(client, table) is not None

    return asyncio.run(ask())


def test_keys_from_before_the_snapshot_are_refused_after_the_restore(
    orders_function: FunctionConfig, start_lambda: StartLambda, runtime: Runtime
) -> None:
    service = start_lambda(orders_function, init_type="snap-start")  # published, not restored
    environment = service.environment
    assert environment is not None
    assert environment.phase.value == "snapshot"
    run = Run("snap-start", orders_function, service, runtime.task_root)
    check_the_runtime_process_has_lambdas_environment(run)  # no keys, container credentials
    check_the_runtime_runs_the_asset_from_a_read_only_task_root(run)
    endpoint = f"http://{environment.spec.runtime_api}/2021-04-23/credentials"
    assert httpx.get(endpoint).status_code == 401
    assert httpx.get(endpoint, headers={"authorization": "a guess"}).status_code == 401
    # What anything in init would have got from the endpoint (the app itself asks lazily).
    taken = httpx.get(endpoint, headers={"authorization": environment.token}).json()
    old = Key(taken["AccessKeyId"], taken["SecretAccessKey"], taken["Token"])
    assert table_exists(service, orders_function, old)  # valid while the snapshot is taken

    assert status(service, create_event("alice")) == 201  # restores, then serves

    with pytest.raises(ExpiredToken):
        table_exists(service, orders_function, old)
    issued = [key.access_key_id for key in service.keys.issued()]
    served = [s for s in service.front.seen() if s.access_key_id != old.id]
    assert served
    assert {s.outcome for s in served} == {"served"}  # the function never sent the old key
    assert all(issued.index(s.access_key_id or "") > issued.index(old.id) for s in served)
    purpose = {key.access_key_id: key.purpose for key in service.keys.issued()}
    assert {purpose[s.access_key_id or ""] for s in served} == {"container"}
    (report,) = service.reports
    assert report.restore_duration_ms is not None
    assert report.init_duration_ms is None  # SnapStart's init is in INIT_REPORT
    records = [json.loads(line) for line in service.logs.lines() if line.startswith("{")]
    kinds = [r["type"] for r in records if "type" in r]
    assert kinds.index("platform.initReport") < kinds.index("platform.restoreReport")


def test_stale_connections_and_keys_cost_no_error(
    orders_function: FunctionConfig, start_lambda: StartLambda, tmp_path: Path
) -> None:
    """Connections cut under the frozen function or closed by the server while it idled,
    and keys that expire within seconds: every request still succeeds."""
    service = start_lambda(
        orders_function, init_type="snap-start", front_keep_alive=0.5, container_key_lifetime=2
    )
    with gateway(service, tmp_path) as (base_url, token):
        auth = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=auth, timeout=30) as client:
            created = client.post("/orders", json=order_body("latte"))
            assert created.status_code == 201
            order = created.json()["id"]
            assert service.front_connections() >= 1  # the function keeps its connection
            assert service.drop_front_connections() >= 1  # ...until the network cuts it
            assert client.get(f"/orders/{order}").status_code == 200
            time.sleep(2.5)  # frozen: the front closes idle connections, the key expires
            assert service.front_connections() == 0
            assert client.get(f"/orders/{order}").status_code == 200
            assert client.get("/orders").status_code == 200
            assert client.delete(f"/orders/{order}").status_code == 204
    seen = service.front.seen()
    assert {s.outcome for s in seen} == {"served"}
    assert len({s.access_key_id for s in seen}) >= 2  # renewed before it expired


@pytest.mark.parametrize(
    ("init_type", "how", "exit_status"),
    [("snap-start", "sigterm", -15), ("on-demand", "exit", 1)],
)
def test_sigterm_or_the_runtimes_exit_run_the_apps_shutdown_once(
    orders_function: FunctionConfig,
    start_lambda: StartLambda,
    init_type: str,
    how: str,
    exit_status: int,
) -> None:
    service = start_lambda(orders_function, init_type=init_type)
    assert status(service, routed_event("GET", "/health", headers=HOST)) == 200
    assert service.stop(how) == exit_status
    shutdowns = [line for line in service.logs.lines() if "Lambda environment shut down" in line]
    assert len(shutdowns) == 1


def threads_accepting(pid: int, signum: int) -> tuple[int, list[int]]:
    """(how many threads ``pid`` has, the ids of those whose mask lets ``signum`` through)."""
    tasks = sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task"))
    accepting = []
    for tid in tasks:
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        blocked = int(
            next(line for line in status.splitlines() if line.startswith("SigBlk:"))[7:], 16
        )
        if not blocked & (1 << (signum - 1)):
            accepting.append(tid)
    return len(tasks), accepting


@pytest.mark.parametrize("init_type", ["on-demand", "snap-start"])
def test_sigterm_can_reach_only_the_thread_that_runs_the_shutdown(
    orders_function: FunctionConfig, start_lambda: StartLambda, init_type: str
) -> None:
    """signal(7): the kernel gives a process-directed signal to any thread that does not block
    it. The runtime client waits for the next event in a worker thread while the main thread
    blocks joining it; a SIGTERM given to that worker never runs a Python handler, and Lambda's
    SIGKILL comes with the app's shutdown never run. At rest, one thread alone may take it."""
    service = start_lambda(orders_function, init_type=init_type)
    assert status(service, routed_event("GET", "/health", headers=HOST)) == 200
    environment = service.environment
    assert environment is not None
    assert environment.process is not None
    pid = environment.process.pid
    deadline = time.monotonic() + 10
    while (counted := threads_accepting(pid, signal.SIGTERM))[0] < 2:  # the poller started
        assert time.monotonic() < deadline, counted
        time.sleep(0.05)
    # Only the SIGTERM waiter may let it through, and only while inside sigwait (the kernel
    # lifts the mask for the wait; a frozen environment has left the call): never two threads.
    assert len(counted[1]) <= 1, counted
    assert service.stop("sigterm") == -signal.SIGTERM
    shutdowns = [line for line in service.logs.lines() if "Lambda environment shut down" in line]
    assert len(shutdowns) == 1


def test_priming_before_the_snapshot_reaches_nothing_outside_the_process(
    orders_function: FunctionConfig, start_lambda: StartLambda
) -> None:
    """The before-snapshot hook's requests are answered from memory: before the restore no
    request reached the table, no key was fetched, nothing was logged or measured; afterwards
    the priming caller has no orders."""
    assert orders_function.application_log_level == "INFO"  # request lines would show
    service = start_lambda(orders_function, init_type="snap-start")  # init, priming, snapshot
    assert service.front.seen() == []
    assert service.front.ready  # the first request after the restore finds moto's client built
    assert service.keys.issued() == []
    published = service.logs.lines()
    assert [line for line in published if '"_aws"' in line] == []  # no EMF metric line
    assert [line for line in published if '"app.lambda"' in line] == []  # no request line
    listed = service.invoke(
        routed_event("GET", "/orders", headers=HOST, claims={"sub": PRIMING_OWNER})
    ).document()
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"])["orders"] == []

"""The smoke suite through gateway emulator → Runtime API → awslambdaric → the built asset.

Once per initialization type (``snap-start``, the stack's, and ``on-demand``), on DynamoDB
behind the front that refuses keys Lambda did not hand out; then what the run left is
inspected: the keys DynamoDB saw, the reports and log lines, the runtime process itself. One
test per mode, so that each mode starts one runtime however the tests are distributed.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.lambda_runtime.function import FunctionConfig, Template, table_ids
from devtools.lambda_runtime.service import LocalLambda
from tests.conftest import fresh_dynamodb_table
from tests.runtime.conftest import Runtime, gateway
from tests.smoke_runner import run_smoke_suite


@dataclass
class SmokeRun:
    init_type: str
    function: FunctionConfig
    service: LocalLambda
    output: str
    left_over: object
    task_root: Path


@pytest.fixture(params=["snap-start", "on-demand"])
def smoke_run(
    request: pytest.FixtureRequest,
    runtime: Runtime,
    template: Template,
    moto_endpoint: str,
    tmp_path: Path,
) -> Iterator[SmokeRun]:
    init_type: str = request.param
    url = asyncio.run(fresh_dynamodb_table(moto_endpoint))
    table = url.split("://", 1)[1].split("?", 1)[0]
    function = FunctionConfig.from_template(template, names={table_ids(template)[0]: table})
    function = function.replace(variables={**function.variables, "GREET_DELAY": "0"})
    service = LocalLambda(
        function,
        moto_endpoint,
        init_type=init_type,
        task_root=runtime.task_root,
        python=runtime.python,
    )
    try:
        service.start()
        with gateway(service, tmp_path) as (base_url, token):
            output = run_smoke_suite(base_url, token)
            auth = {"authorization": f"Bearer {token}"}
            left_over = httpx.get(f"{base_url}/orders", headers=auth, timeout=30).json()
        yield SmokeRun(init_type, function, service, output, left_over, runtime.task_root)
    finally:
        service.stop()


def test_the_smoke_suite_passes_through_the_runtime(smoke_run: SmokeRun) -> None:
    check_the_suite_passed(smoke_run)
    check_dynamodb_saw_only_keys_lambda_handed_out(smoke_run)
    check_one_environment_served_everything_and_reported_its_start_once(smoke_run)
    check_platform_lines_and_app_lines_share_the_request_ids(smoke_run)
    check_the_runtime_process_has_lambdas_environment(smoke_run)
    check_the_runtime_runs_the_asset_from_a_read_only_task_root(smoke_run)


def check_the_suite_passed(smoke_run: SmokeRun) -> None:
    assert " passed" in smoke_run.output
    assert "failed" not in smoke_run.output
    assert "skipped" not in smoke_run.output  # with a token, every check ran
    assert smoke_run.left_over == {"orders": []}


def check_dynamodb_saw_only_keys_lambda_handed_out(smoke_run: SmokeRun) -> None:
    seen = smoke_run.service.front.seen()
    assert len(seen) > 20
    assert {s.outcome for s in seen} == {"served"}
    purpose = {key.access_key_id: key.purpose for key in smoke_run.service.keys.issued()}
    # SnapStart: keys only from the container endpoint; on-demand: the environment's keys.
    expected = "container" if smoke_run.init_type == "snap-start" else "environment"
    assert {purpose[s.access_key_id] for s in seen if s.access_key_id} == {expected}


def check_one_environment_served_everything_and_reported_its_start_once(
    smoke_run: SmokeRun,
) -> None:
    service = smoke_run.service
    assert len(service.environments) == 1
    first, *warm = service.reports
    assert len(warm) > 20
    if smoke_run.init_type == "snap-start":
        assert first.restore_duration_ms is not None
        assert first.init_duration_ms is None
    else:
        assert first.init_duration_ms is not None
        assert first.restore_duration_ms is None
    assert all(r.init_duration_ms is None and r.restore_duration_ms is None for r in warm)
    assert {r.status for r in service.reports} == {"success"}
    for report in service.reports:
        assert report.billed_duration_ms >= report.duration_ms > 0
        assert 0 < report.max_memory_used_mb < report.memory_size_mb


def check_platform_lines_and_app_lines_share_the_request_ids(smoke_run: SmokeRun) -> None:
    records = [json.loads(line) for line in smoke_run.service.logs.lines() if line.startswith("{")]
    platform: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        platform.setdefault(record.get("type"), []).append(record)
    (init_start,) = platform["platform.initStart"]
    assert init_start["record"]["initializationType"] == smoke_run.init_type
    reported = {r["record"]["requestId"] for r in platform["platform.report"]}
    assert reported == {r.request_id for r in smoke_run.service.reports}
    app_lines = [r for r in records if r.get("logger") == "app.lambda"]
    assert app_lines
    assert {line["requestId"] for line in app_lines} <= reported
    if smoke_run.init_type == "snap-start":
        assert [r["record"]["status"] for r in platform["platform.restoreReport"]] == ["success"]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if item)


def check_the_runtime_process_has_lambdas_environment(smoke_run: SmokeRun) -> None:
    environment = smoke_run.service.environment
    assert environment is not None
    assert environment.process is not None
    variables = _environ(environment.process.pid)
    function = smoke_run.function
    for name, value in function.variables.items():  # the template's, GREET_DELAY aside
        assert variables[name] == value
    assert variables["STORE_URL"].startswith("dynamodb://orders-")
    expected = {
        "_HANDLER": "app.aws_lambda.handler.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": smoke_run.init_type,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(smoke_run.task_root),
        "TZ": ":UTC",
    }
    assert {name: variables.get(name) for name in expected} == expected
    snap_start = smoke_run.init_type == "snap-start"
    # Under SnapStart no keys and no log group/stream names; container credentials instead.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert (name in variables) is not snap_start
    for name in ("AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME"):
        assert (name in variables) is not snap_start
    api = variables["AWS_LAMBDA_RUNTIME_API"]
    if snap_start:
        assert variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == (
            f"http://{api}/2021-04-23/credentials"
        )
        assert variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"] == environment.token
    else:
        assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in variables
    # Nothing of this machine's environment leaks in (the test process has fake keys).
    assert not set(variables) & {"HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_CURRENT_TEST"}


def check_the_runtime_runs_the_asset_from_a_read_only_task_root(smoke_run: SmokeRun) -> None:
    environment = smoke_run.service.environment
    assert environment is not None
    assert environment.process is not None
    pid = environment.process.pid
    task_root = smoke_run.task_root
    assert Path(os.readlink(f"/proc/{pid}/cwd")) == task_root
    for path in (task_root, task_root / "app" / "aws_lambda" / "handler.py"):
        assert path.stat().st_mode & 0o222 == 0
    mapped = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()}
    mapped = {path for path in mapped if path.startswith("/")}
    # The compiled dependencies come from the asset, nothing from the project's .venv.
    pydantic_core = [path for path in mapped if "_pydantic_core" in path]
    assert pydantic_core
    assert all(Path(path).is_relative_to(task_root) for path in pydantic_core)
    assert not [path for path in mapped if "/.venv/" in path]

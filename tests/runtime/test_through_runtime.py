"""The smoke suite through gateway emulator → Runtime API → awslambdaric → the built asset.

On-demand here, on DynamoDB behind the front that refuses keys Lambda did not hand out; then
what the run left is inspected: the keys DynamoDB saw, the reports and log lines, the runtime
process itself. The SnapStart smoke run is ``make gateway``'s own command (the stack's mode,
tests/test_smoke_live.py); test_snapstart.py checks that mode's environment and keys.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.lambda_runtime.function import FunctionConfig, Template, table_ids
from devtools.lambda_runtime.local_lambda import LocalLambda
from tests.conftest import fresh_dynamodb_table
from tests.runtime.checks import (
    Run,
    check_the_runtime_process_has_lambdas_environment,
    check_the_runtime_runs_the_asset_from_a_read_only_task_root,
)
from tests.runtime.conftest import Runtime, gateway
from tests.smoke_runner import run_smoke_suite


@dataclass
class SmokeRun(Run):
    output: str = ""
    left_over: object = None


@pytest.fixture
def smoke_run(
    runtime: Runtime,
    template: Template,
    moto_endpoint: str,
    tmp_path: Path,
) -> Iterator[SmokeRun]:
    init_type = "on-demand"
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
        yield SmokeRun(init_type, function, service, runtime.task_root, output, left_over)
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
    assert {purpose[s.access_key_id] for s in seen if s.access_key_id} == {"environment"}


def check_one_environment_served_everything_and_reported_its_start_once(
    smoke_run: SmokeRun,
) -> None:
    service = smoke_run.service
    assert len(service.environments) == 1
    first, *warm = service.reports
    assert len(warm) > 20
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

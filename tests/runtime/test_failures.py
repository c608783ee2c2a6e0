"""Failures as Lambda reports them, and as API Gateway answers them (a handler that fails on
purpose: tests/runtime/probe/probe.py, in a read-only task root of its own)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.gateway.events import routed_event
from devtools.lambda_runtime.environment import MAX_REQUEST_BYTES
from devtools.lambda_runtime.local_lambda import LocalLambda, PublishError, Result
from tests.runtime.conftest import StartLambda, gateway, probe_function

EVENT = routed_event("GET", "/hi", headers=[("host", "abc123.execute-api.us-east-1.amazonaws.com")])
INTERNAL_ERROR = {"message": "Internal Server Error"}


@pytest.fixture
def start_probe(start_lambda: StartLambda, probe_root: Path) -> StartLambda:
    """``start_probe(handler, init_type=..., **variables)``: the probe's ``handler``."""

    def start(handler: str, *, init_type: str = "on-demand", **options: Any) -> LocalLambda:
        timeout = options.pop("timeout", 3)
        variables = {k: v for k, v in options.items() if k.startswith("PROBE_")}
        settings = {k: v for k, v in options.items() if not k.startswith("PROBE_")}
        function = probe_function(handler, timeout=timeout, **variables)
        return start_lambda(function, init_type=init_type, task_root=probe_root, **settings)

    return start


def through_gateway(service: LocalLambda, folder: Path, **request: Any) -> httpx.Response:
    with gateway(service, folder) as (base_url, _):
        method = request.pop("method", "GET")
        return httpx.request(method, f"{base_url}{request.pop('path', '/hi')}", **request)


def error_of(result: Result) -> dict[str, Any]:
    assert result.function_error == "Unhandled"
    document: dict[str, Any] = result.document()
    return document


def test_a_handler_that_answers_is_served(start_probe: StartLambda, tmp_path: Path) -> None:
    service = start_probe("echo")
    response = through_gateway(service, tmp_path)
    assert response.status_code == 200
    body = response.json()
    assert body["arn"].endswith(f":function:{service.function.name}:live")
    assert 0 < body["remaining_ms"] <= 3000


def test_an_init_error_fails_the_invocation_as_lambda_reports_it(
    start_probe: StartLambda, tmp_path: Path
) -> None:
    service = start_probe("echo", PROBE_FAIL_INIT="1")
    error = error_of(service.invoke(EVENT))
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "init failed on purpose"
    (report,) = service.reports
    assert (report.status, report.error_type) == ("error", "RuntimeError")
    assert report.init_duration_ms is not None
    init_reports = [json.loads(line) for line in service.logs.lines() if "initReport" in line]
    assert [r["record"]["status"] for r in init_reports] == ["error"]
    response = through_gateway(service, tmp_path)  # a new environment fails the same way
    assert (response.status_code, response.json()) == (500, INTERNAL_ERROR)
    assert len(service.environments) == 2


def test_an_unimportable_handler_is_runtime_import_module_error(
    start_lambda: StartLambda, probe_root: Path
) -> None:
    service = start_lambda(
        probe_function("echo").replace(handler="missing.handler"),
        init_type="on-demand",
        task_root=probe_root,
    )
    error = error_of(service.invoke(EVENT))
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'missing'" in error["errorMessage"]


def test_a_snapstart_init_error_fails_the_publication(start_probe: StartLambda) -> None:
    with pytest.raises(PublishError) as failed:
        start_probe("echo", init_type="snap-start", PROBE_FAIL_INIT="1")
    assert failed.value.outcome.error_type == "RuntimeError"


def test_an_after_restore_error_fails_the_restore(start_probe: StartLambda, tmp_path: Path) -> None:
    service = start_probe("echo", init_type="snap-start", PROBE_FAIL_RESTORE="1")
    result = service.invoke(EVENT)
    assert (result.rejected, result.status_code) == ("SnapStartException", 400)
    lines = service.logs.lines()
    assert any("after-restore hook failed on purpose" in line for line in lines)
    assert any('"status": "error"' in line and "restoreReport" in line for line in lines)


def test_an_invocation_error_keeps_the_environment(
    start_probe: StartLambda, tmp_path: Path
) -> None:
    service = start_probe("fail")
    error = error_of(service.invoke(EVENT))
    assert (error["errorType"], error["errorMessage"]) == (
        "ValueError",
        "invocation failed on purpose",
    )
    assert any("Traceback" in line or "ValueError" in line for line in error["stackTrace"])
    response = through_gateway(service, tmp_path)
    assert (response.status_code, response.json()) == (500, INTERNAL_ERROR)
    assert len(service.environments) == 1  # a function error does not reset the environment
    assert [r.error_type for r in service.reports] == ["ValueError", "ValueError"]


def test_a_response_over_6_mb_is_a_function_error(start_probe: StartLambda, tmp_path: Path) -> None:
    service = start_probe("huge")
    result = service.invoke(EVENT)
    error = error_of(result)
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert result.report is not None
    assert result.report.max_memory_used_mb > 7  # it held the 7 MB response
    assert "6291556 bytes" in error["errorMessage"]
    response = through_gateway(service, tmp_path)
    assert (response.status_code, response.json()) == (500, INTERNAL_ERROR)
    # The runtime could not deliver the response and exited: each call met a new environment.
    assert len(service.environments) == 2


def test_a_request_over_6_mb_is_refused_before_the_function_runs(
    start_probe: StartLambda, tmp_path: Path
) -> None:
    service = start_probe("echo")
    result = service.invoke(b"{}" + b" " * MAX_REQUEST_BYTES)
    assert (result.rejected, result.status_code) == ("RequestEntityTooLargeException", 413)
    assert service.reports == []
    # API Gateway takes up to 10 MB, Lambda refuses the 7 MB event: 500.
    body = b"x" * (7 * 1024 * 1024)
    response = through_gateway(
        service,
        tmp_path,
        method="POST",
        path="/hi",
        content=body,
        headers={"content-type": "text/plain"},
    )
    assert (response.status_code, response.json()) == (500, INTERNAL_ERROR)
    assert service.reports == []


def test_an_invocation_over_the_timeout_is_stopped(
    start_probe: StartLambda, tmp_path: Path
) -> None:
    service = start_probe("slow", timeout=1, PROBE_SLEEP="5")
    result = service.invoke(EVENT)
    assert "Task timed out after 1.00 seconds" in error_of(result)["errorMessage"]
    (report,) = service.reports
    assert (report.status, report.error_type) == ("timeout", "Sandbox.Timedout")
    assert 1000 <= report.duration_ms < 3000
    assert report.max_memory_used_mb > 0
    response = through_gateway(service, tmp_path)  # the reset environment starts again
    assert (response.status_code, response.json()) == (500, INTERNAL_ERROR)
    assert len(service.environments) == 2


def test_an_init_over_10_seconds_is_retried_within_the_invocation(start_probe: StartLambda) -> None:
    # Scaled down: an init limit of 0.5 s, an init of 1 s, a function timeout of 3 s.
    service = start_probe("echo", init_limit=0.5, PROBE_INIT_SECONDS="1")
    result = service.invoke(EVENT)
    assert result.function_error is None
    assert result.document()["statusCode"] == 200
    assert len(service.environments) == 2
    statuses = [
        json.loads(line)["record"]["status"]
        for line in service.logs.lines()
        if "initReport" in line
    ]
    assert statuses == ["timeout"]
    (report,) = service.reports
    assert report.init_duration_ms is not None
    assert report.init_duration_ms >= 1000


def test_the_task_root_is_read_only_and_tmp_writable(
    start_probe: StartLambda, probe_root: Path
) -> None:
    service = start_probe("sandbox")
    result = service.invoke(EVENT)
    body = json.loads(result.document()["body"])
    assert body["writes"] == {"task_root": "PermissionError", "tmp": "written"}
    assert body["cwd"] == str(probe_root)

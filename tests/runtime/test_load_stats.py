"""``make load`` against the local runtime: what the harness counts as Lambda's throttle (API
Gateway's 500) is what the runtime throttled, and ``GET /_local/stats`` gives the run's
environments, REPORTs and CPU."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.lambda_service import LambdaServiceIntegration
from devtools.gateway.load_stats import RuntimeStats, route_name, with_stats
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.journal import LIMIT_ENV
from devtools.load.cli import main
from tests.gateway_support import dev_authorizer, serving
from tests.runtime.conftest import StartLambda


def test_routes_are_named_as_the_harness_names_them() -> None:
    assert [
        route_name("GET", "/hi"), route_name("GET", "/orders"), route_name("POST", "/orders"),
        route_name("GET", "/orders/1"), route_name("DELETE", "/orders/1"),
        route_name("POST", "/orders/1/pay"), route_name("POST", "/orders/1/cancel"),
        route_name("PUT", "/orders/1"), route_name("GET", "/docs"),
    ] == ["hi", "list", "create", "get", "delete", "pay", "cancel", "other", "other"]  # fmt: skip


def test_a_run_through_the_runtime_reports_its_environments_and_throttles(
    orders_function: FunctionConfig,
    start_lambda: StartLambda,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    reserved = 2
    function = orders_function.replace(
        variables={**orders_function.variables, "GREET_DELAY": "1"},
        reserved_concurrency=reserved,
    )
    service = start_lambda(function, init_type="on-demand")
    stats = RuntimeStats(service)
    integration = LambdaServiceIntegration(service, managed=False, observe=stats.observe)
    config = GatewayConfig(integration=integration, authorizer=dev_authorizer(tmp_path))
    with serving(with_stats(create_gateway(config), stats)) as base_url:
        run = [base_url, "--rate", "6", "--seconds", "2", "--mix", "hi", "--out", str(tmp_path)]
        status = main([*run, "--max-lag-ms", "2000"])  # valid on a busy machine too
    report = json.loads((tmp_path / "report.json").read_text())
    assert status == 1, report["slo"]  # throttled answers miss the SLO
    assert report["plan"]["kind"] == "gateway"
    hi, runtime = report["routes"]["hi"], report["runtime"]
    # 6 greetings/s of 1 s each want 6 environments; 2 are allowed, the rest are throttled
    assert hi["errors"]["lambda_throttle_500"] == runtime["throttles"] > 0
    assert hi["status"]["200"] == runtime["reports"]["hi"]["count"]
    assert hi["status"]["200"] + hi["status"]["500"] == hi["sent"] == 12
    assert 1 <= runtime["peak_environments"] <= reserved
    assert runtime["environments_started"] == runtime["cold_starts"] <= reserved
    assert runtime["restores"] == 0
    assert 1000 <= runtime["reports"]["hi"]["duration_ms"]["p50"] < 2000  # GREET_DELAY 1 s
    assert runtime["reports"]["hi"]["init_ms"]["count"] == runtime["cold_starts"]
    assert runtime["reports"]["hi"]["max_memory_mb"] > 0
    assert runtime["cpu_ms_per_request"]["runtime"] > 0
    assert runtime["cpu_ms_per_request"]["gateway"] > 0


def test_the_runtime_keeps_a_bounded_journal_of_a_long_run(
    orders_function: FunctionConfig,
    start_lambda: StartLambda,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every REPORT, span, log line and DynamoDB request is counted, only the newest kept:
    before, all were kept for the gateway's life (it grew with every request)."""
    monkeypatch.setenv(LIMIT_ENV, "5")
    function = orders_function.replace(variables={**orders_function.variables, "GREET_DELAY": "0"})
    service = start_lambda(function, init_type="on-demand")
    stats = RuntimeStats(service)
    integration = LambdaServiceIntegration(service, managed=False, observe=stats.observe)
    config = GatewayConfig(integration=integration, authorizer=dev_authorizer(tmp_path))
    gateway = with_stats(create_gateway(config), stats)
    with serving(gateway) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        answers = [client.get("/hi").status_code for _ in range(12)]
        journals = client.get("/_local/stats").json()["journals"]
    assert answers == [200] * 12
    assert journals["reports"] == {"kept": 5, "limit": 5, "total": 12}
    assert journals["spans"] == {"kept": 5, "limit": 5, "total": 12}
    assert journals["log_lines"]["kept"] == 5
    assert journals["log_lines"]["total"] >= 2 * 12  # platform.start and .report at least
    assert journals["dynamodb_requests"]["kept"] <= 5

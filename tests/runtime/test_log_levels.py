"""The stack's log-level knob through Lambda's log-level filtering (the local runtime applies it
as Lambda does): the metrics survive every value, the app's own lines follow the knob."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.gateway.events import routed_event
from devtools.lambda_runtime.function import FunctionConfig, synthesized_template, table_ids
from devtools.lambda_runtime.reports import Logs
from tests.runtime.conftest import StartLambda

EVENT = routed_event("GET", "/hi", headers=[("host", "abc123.execute-api.us-east-1.amazonaws.com")])


def documents(lines: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            parsed.append(document)
    return parsed


@pytest.mark.parametrize("level", ["WARNING", "ERROR"])
def test_the_metric_line_survives_a_quieter_log_level(
    level: str, start_lambda: StartLambda, moto_endpoint: str
) -> None:
    template = synthesized_template("dev", context={"log-level": level})
    function = FunctionConfig.from_template(template, names={table_ids(template)[0]: "orders"})
    function = function.replace(variables={**function.variables, "GREET_DELAY": "0"})
    service = start_lambda(function, init_type="on-demand")
    result = service.invoke(EVENT)
    assert result.document()["statusCode"] == 200
    logged = documents(service.logs.lines())
    emf = [d for d in logged if "_aws" in d]
    assert len(emf) == 1, service.logs.lines()
    assert emf[0]["route"] == "GET /hi"
    assert emf[0]["Requests"] == 1
    # The knob still quiets the app: its per-request INFO line is not in the log group.
    assert not [d for d in logged if d.get("logger") == "app.lambda"]
    assert any(d.get("type") == "platform.report" for d in logged)  # system level INFO


def test_lambda_drops_what_is_below_the_application_and_system_levels() -> None:
    logs = Logs("JSON", application_level="WARN", system_level="WARN")
    logs.function('{"level": "INFO", "message": "info"}')
    logs.function('{"message": "no level: INFO"}')
    logs.function("plain text: INFO")
    logs.function('{"level": "WARNING", "message": "python warning"}')
    logs.function('{"level": "error", "message": "error"}')
    logs.platform("report", {"requestId": "1"}, "REPORT")
    assert [json.loads(line)["message"] for line in logs.lines()] == ["python warning", "error"]
    assert logs.dropped == 4
    text = Logs("Text", application_level="FATAL", system_level="WARN")  # no filter for Text
    text.function("plain")
    text.platform("report", {}, "REPORT")
    assert text.lines() == ["plain", "REPORT"]


@pytest.mark.parametrize("knob", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
def test_every_log_level_knob_lets_the_metric_lines_through(knob: str) -> None:
    """What the stack sets for each knob value, against Lambda's rule for level-less lines."""
    from infra.compute import application_log_level

    lambda_level = application_log_level(knob).value
    logs = Logs("JSON", application_level=lambda_level)
    logs.function('{"_aws": {"Timestamp": 0, "CloudWatchMetrics": []}, "Requests": 1}')
    assert len(logs.lines()) == 1

"""What CodeDeploy rolls back on, and whether the alarms can judge a canary before it ends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import DEPLOYMENTS
from infra.deployment import DEPLOYMENT_CONFIGS
from tests.infra.conftest import Synthesized

# Seconds each predefined CodeDeploy Lambda configuration keeps the new version on part of the
# traffic before it gets all of it (CodeDeploy user guide, "Deployment configurations on an AWS
# Lambda compute platform"): a canary's interval; a linear shift's ten steps but the last.
PARTIAL_TRAFFIC_SECONDS = {
    "CodeDeployDefault.LambdaAllAtOnce": 0,
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": 300,
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": 600,
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": 900,
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": 1800,
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": 540,
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": 1080,
}
# Lambda and API Gateway metrics reach CloudWatch a few minutes after the minute they describe.
METRIC_DELAY_SECONDS = 180


def _rollback_alarms(s: Synthesized) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The deployment group's properties and the (logical id, properties) of its alarms."""
    _, group = s.only("AWS::CodeDeploy::DeploymentGroup")
    names = [json.dumps(a["Name"]) for a in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    alarms = s.resources("AWS::CloudWatch::Alarm")
    by_ref = {json.dumps({"Ref": i}): (i, a["Properties"]) for i, a in alarms.items()}
    return group["Properties"], [by_ref[n] for n in names]


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}


def test_throttles_page_but_never_roll_back(stage: Synthesized) -> None:
    _, rollback = _rollback_alarms(stage)
    watched = set().union(*(_metric_names(a) for _, a in rollback))
    assert not watched & {"Throttles", "ThrottledRequests", "ConcurrentExecutions"}
    alarms = [a["Properties"] for a in stage.resources("AWS::CloudWatch::Alarm").values()]
    for metric in ("Throttles", "ThrottledRequests"):
        (page,) = [a for a in alarms if metric in _metric_names(a)]
        assert page["AlarmActions"], metric  # still notifies the topic


def test_the_canary_is_judged_on_its_own_version(stage: Synthesized) -> None:
    """Errors and duration of the invocations that ran the version being deployed."""
    version_id, _ = stage.only("AWS::Lambda::Version")
    function_id, _ = stage.only("AWS::Lambda::Function")
    alias_id, alias = stage.only("AWS::Lambda::Alias")
    _, rollback = _rollback_alarms(stage)
    per_version = {}
    for alarm_id, alarm in rollback:
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        if "ExecutedVersion" in dimensions:
            assert dimensions["ExecutedVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
            assert dimensions["FunctionName"] == {"Ref": function_id}
            assert dimensions["Resource"] == {
                "Fn::Join": ["", [{"Ref": function_id}, ":" + alias["Properties"]["Name"]]]
            }
            per_version[alarm["MetricName"]] = alarm_id
    assert set(per_version) == {"Errors", "Duration"}
    # Updated to the new version before the alias update starts the deployment they judge.
    depends_on = stage.template_json["Resources"][alias_id].get("DependsOn", [])
    assert set(per_version.values()) <= set(depends_on)


def test_a_canary_lasts_long_enough_for_every_rollback_alarm(stage: Synthesized) -> None:
    group, rollback = _rollback_alarms(stage)
    partial = PARTIAL_TRAFFIC_SECONDS[group["DeploymentConfigName"]]
    if stage.context["stage"] == "dev":
        assert partial == 0  # all at once: alarms page but cannot stop a deployment (docs)
        return
    for alarm_id, alarm in rollback:
        window = alarm.get("Period") or max(
            q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q
        )
        needed = window * alarm["EvaluationPeriods"] + METRIC_DELAY_SECONDS
        assert needed <= partial, (alarm_id, needed, partial)


@pytest.mark.parametrize("choice", [d for d in DEPLOYMENTS if d != "all-at-once"])
def test_every_offered_shift_leaves_a_minute_period_alarm_time_to_fire(choice: str) -> None:
    name = DEPLOYMENT_CONFIGS[choice].deployment_config_name
    assert PARTIAL_TRAFFIC_SECONDS[name] >= 60 * 3 + METRIC_DELAY_SECONDS

"""Alarms, topic, dashboard, safe deploys, tracing and capacity limits, checked by intent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from app.contract import metrics
from infra.config import StageConfig
from tests.infra.conftest import Synthesized


def template(s: Synthesized) -> Template:
    return Template.from_json(s.template_json)


def config(s: Synthesized) -> StageConfig:
    return StageConfig.from_context(s.context.get)


def alarms(s: Synthesized) -> list[dict[str, Any]]:
    return [a["Properties"] for a in s.resources("AWS::CloudWatch::Alarm").values()]


def topic_ref(s: Synthesized) -> dict[str, str]:
    topic_id, _ = s.only("AWS::SNS::Topic")
    return {"Ref": topic_id}


def alias_resource(s: Synthesized) -> dict[str, Any]:
    """The ``Resource`` dimension of the live alias's metrics (``<function>:live``)."""
    function_id, _ = s.only("AWS::Lambda::Function")
    _, alias = s.only("AWS::Lambda::Alias")
    qualified = ["", [{"Ref": function_id}, ":" + alias["Properties"]["Name"]]]
    return {"Name": "Resource", "Value": {"Fn::Join": qualified}}


def period(s: Synthesized) -> int:
    return 60 if s.context["stage"] == "prod" else 300


# (metric, statistic key, statistic) of each single-metric alarm on the live alias.
ALIAS_ALARMS = [
    ("Errors", "Statistic", "Sum"),
    ("Throttles", "Statistic", "Sum"),
    ("Duration", "ExtendedStatistic", "p99"),
]


@pytest.mark.parametrize(("metric", "key", "statistic"), ALIAS_ALARMS)
def test_lambda_alarms_watch_the_live_alias(
    stage: Synthesized, metric: str, key: str, statistic: str
) -> None:
    c = config(stage)
    threshold = {
        "Errors": c.alarms.errors,
        "Throttles": c.alarms.throttles,
        "Duration": c.timeout_seconds * 1000 * c.alarms.duration_percent / 100,
    }[metric]
    template(stage).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": metric,
            key: statistic,
            "Period": period(stage),
            "Dimensions": Match.array_with([alias_resource(stage)]),
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic_ref(stage)],
            "OKActions": [topic_ref(stage)],
        },
    )


def test_thresholds_come_from_context_with_stage_defaults(stage: Synthesized) -> None:
    c = config(stage)
    if stage.context["stage"] == "dev":
        assert (c.alarms.errors, c.alarms.server_error_percent, c.alarms.latency_p99_ms) == (
            5,
            5,
            5000,
        )
    else:
        assert (c.alarms.errors, c.alarms.server_error_percent) == (1, 1)
        assert c.alarms.latency_p99_ms == int(stage.context["alarm-latency-p99-ms"])


def test_api_alarms_watch_the_5xx_rate_and_p99_latency(stage: Synthesized) -> None:
    c = config(stage)
    api_id, _ = stage.only("AWS::ApiGatewayV2::Api")
    api_dimension = {"Name": "ApiId", "Value": {"Ref": api_id}}
    template(stage).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/ApiGateway",
            "MetricName": "Latency",
            "ExtendedStatistic": "p99",
            "Dimensions": [api_dimension],
            "Threshold": c.alarms.latency_p99_ms,
            "TreatMissingData": "notBreaching",
        },
    )
    (rate,) = [a for a in alarms(stage) if "5xx" in json.dumps(a.get("Metrics", ""))]
    assert rate["Threshold"] == c.alarms.server_error_percent
    assert rate["TreatMissingData"] == "notBreaching"
    by_id = {m["Id"]: m for m in rate["Metrics"]}
    assert "100 * errors / requests" in next(
        m["Expression"] for m in rate["Metrics"] if "Expression" in m
    )
    for name, metric in (("errors", "5xx"), ("requests", "Count")):
        stat = by_id[name]["MetricStat"]
        assert stat["Metric"]["MetricName"] == metric
        assert stat["Metric"]["Dimensions"] == [api_dimension]
        assert stat["Stat"] == "Sum"


@pytest.mark.parametrize(("metric", "knob"), [("ThrottledRequests", "dynamodb_throttles"),
                                               ("SystemErrors", "dynamodb_errors")])  # fmt: skip
def test_dynamodb_alarms_cover_every_operation_the_store_calls(
    stage: Synthesized, metric: str, knob: str
) -> None:
    table_id, _ = stage.only("AWS::DynamoDB::GlobalTable")
    (alarm,) = [a for a in alarms(stage) if f'"MetricName": "{metric}"' in json.dumps(a)]
    assert alarm["Threshold"] == getattr(config(stage).alarms, knob)
    operations = set()
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            dims = {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
            assert dims["TableName"] == {"Ref": table_id}
            operations.add(dims["Operation"])
    assert operations == {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query",
                          "TransactWriteItems"}  # fmt: skip


def test_concurrency_alarm_is_relative_to_the_reserved_limit(stage: Synthesized) -> None:
    c = config(stage)
    expected = 50 if stage.context["stage"] == "prod" else 10
    assert c.reserved_concurrency == expected
    template(stage).has_resource_properties(
        "AWS::Lambda::Function",
        {"ReservedConcurrentExecutions": expected, "TracingConfig": {"Mode": "Active"}},
    )
    template(stage).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "ConcurrentExecutions",
            "Statistic": "Maximum",
            "Threshold": expected * c.alarms.concurrency_percent / 100,
        },
    )


def test_table_has_an_on_demand_maximum_throughput(stage: Synthesized) -> None:
    c = config(stage)
    assert c.table_max_read_units == (3000 if stage.context["stage"] == "prod" else 100)
    template(stage).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "WriteOnDemandThroughputSettings": {"MaxWriteRequestUnits": c.table_max_write_units},
            "Replicas": [
                Match.object_like(
                    {
                        "ReadOnDemandThroughputSettings": {
                            "MaxReadRequestUnits": c.table_max_read_units
                        }
                    }
                )
            ],
        },
    )


def test_one_encrypted_topic_with_the_optional_email(stage: Synthesized) -> None:
    t = template(stage)
    t.resource_count_is("AWS::SNS::Topic", 1)
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    t.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    # dev's key goes with `make destroy` (scheduled for deletion), prod's is kept.
    kept = stage.context["stage"] == "prod"
    t.has_resource(
        "AWS::KMS::Key",
        {
            "DeletionPolicy": "Retain" if kept else "Delete",
            "UpdateReplacePolicy": "Retain" if kept else "Delete",
            "Properties": Match.object_like({"PendingWindowInDays": 7}),
        },
    )
    email = stage.context.get("alarm-email")
    if email:
        t.has_resource_properties(
            "AWS::SNS::Subscription",
            {"Protocol": "email", "Endpoint": email, "TopicArn": topic_ref(stage)},
        )
    else:
        t.resource_count_is("AWS::SNS::Subscription", 0)
    for alarm in alarms(stage):  # every alarm notifies the topic
        assert alarm["AlarmActions"] == [topic_ref(stage)]


def test_dashboard_shows_the_golden_signals(stage: Synthesized) -> None:
    _, dashboard = stage.only("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in ("Traffic", "Errors", "Latency p50/p99", "Throttles", "SnapStart restores"):
        assert title in body, title
    for needle in ('\\"p50\\"', '\\"p99\\"', "platform.restoreReport", metrics.NAMESPACE,
                   metrics.ORDERS_CREATED):  # fmt: skip
        assert needle in body, needle


def test_the_cold_start_widget_counts_snapstart_restores_only(stage: Synthesized) -> None:
    """Under SnapStart, ``platform.initReport`` is the init that publishing a version runs for
    its snapshot; a new environment is a restore (``platform.restoreReport``)."""
    _, function = stage.only("AWS::Lambda::Function")
    assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    _, dashboard = stage.only("AWS::CloudWatch::Dashboard")
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
    queries = [w for w in body["widgets"] if w["type"] == "log"]
    (widget,) = [w for w in queries if "Cold starts" in w["properties"]["title"]]
    query = widget["properties"]["query"]
    assert "platform.restoreReport" in query
    assert "platform.initReport" not in query
    assert "restore" in widget["properties"]["title"].lower()


def test_codedeploy_shifts_the_live_alias_and_rolls_back_on_the_alarms(
    stage: Synthesized,
) -> None:
    expected = {
        "dev": "CodeDeployDefault.LambdaAllAtOnce",
        "prod": "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    }[stage.context["stage"]]
    group_id, group = stage.only("AWS::CodeDeploy::DeploymentGroup")
    properties = group["Properties"]
    assert properties["DeploymentConfigName"] == expected
    assert properties["DeploymentStyle"] == {
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
        "DeploymentType": "BLUE_GREEN",
    }
    assert "DEPLOYMENT_STOP_ON_ALARM" in properties["AutoRollbackConfiguration"]["Events"]
    assert properties["AutoRollbackConfiguration"]["Enabled"] is True
    alarm_config = properties["AlarmConfiguration"]
    assert alarm_config["Enabled"] is True
    wired = {json.dumps(a["Name"]) for a in alarm_config["Alarms"]}
    by_id = stage.resources("AWS::CloudWatch::Alarm")
    names = {json.dumps({"Ref": logical_id}): p["Properties"] for logical_id, p in by_id.items()}
    rollback = [names[w] for w in wired]
    watched = {a.get("MetricName") or _math_metric(a) for a in rollback}
    assert watched == {"Errors", "Duration", "5xx"}
    _, alias = stage.only("AWS::Lambda::Alias")
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["DeploymentGroupName"] == {"Ref": group_id}


def test_alias_points_at_a_snapstart_version(stage: Synthesized) -> None:
    version_id, _ = stage.only("AWS::Lambda::Version")
    _, alias = stage.only("AWS::Lambda::Alias")
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    template(stage).has_resource_properties(
        "AWS::Lambda::Function", {"SnapStart": {"ApplyOn": "PublishedVersions"}}
    )


def test_function_emits_metrics_for_its_stage(stage: Synthesized) -> None:
    _, function = stage.only("AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["STAGE"], variables["METRICS"]) == (stage.context["stage"], "emf")


def _math_metric(alarm: dict[str, Any]) -> str:
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    return "5xx" if "5xx" in names else names.pop()

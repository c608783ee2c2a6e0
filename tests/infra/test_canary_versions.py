"""Each deployment's canary alarms are new: two successive versions of the function, synthesized.

An alarm that CloudFormation updates keeps its state: canary alarms left in ALARM by a failing
version would make CodeDeploy roll the fix back the moment its deployment starts. Resources with
a new logical id are created (a new alarm starts in INSUFFICIENT_DATA: CloudWatch user guide,
"Alarm states") and the old ones deleted in the update's cleanup ("Update behaviors of stack
resources": a resource no longer in the template is deleted after the update succeeds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import CDK_JSON_CONTEXT
from tests.infra.iam import ACCOUNT, PARTITION, REGION, Request, Resolver, allowed

pytestmark = pytest.mark.slow  # two syntheses


def _synth(outdir: Path, code: str) -> dict[str, Any]:
    from aws_cdk import App
    from aws_cdk import aws_lambda as lambda_

    from infra.context import StageConfig
    from infra.stack import OrdersApiStack

    app = App(outdir=str(outdir), context={**CDK_JSON_CONTEXT, "stage": "prod"})
    config = StageConfig.from_context(app.node.try_get_context)
    code_asset = lambda_.Code.from_inline(code)
    stack = OrdersApiStack(app, config.stack_name, config=config, code=code_asset)
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template of one version of the function's code, then of the next."""
    first = _synth(tmp_path_factory.mktemp("v1"), "def handler(event, context):\n    return 1\n")
    second = _synth(tmp_path_factory.mktemp("v2"), "def handler(event, context):\n    return 2\n")
    return first, second


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _rollback_ids(template: dict[str, Any]) -> list[str]:
    (group,) = _of_type(template, "AWS::CodeDeploy::DeploymentGroup").values()
    return [a["Name"]["Ref"] for a in group["Properties"]["AlarmConfiguration"]["Alarms"]]


def test_a_new_version_gets_new_canary_alarms_and_keeps_the_others(
    versions: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    first, second = versions
    (v1,) = _of_type(first, "AWS::Lambda::Version")
    (v2,) = _of_type(second, "AWS::Lambda::Version")
    assert v1 != v2  # a new version is published (the premise)
    old, new = set(_rollback_ids(first)), set(_rollback_ids(second))
    assert len(old) == len(new) == 3
    # CloudFormation creates every one of the new version's canary alarms: no state carried over.
    assert not new & set(first["Resources"])
    assert not old & set(second["Resources"])  # and deletes the previous version's
    # The alarms that judge traffic and capacity, not a version, stay (and keep their state).
    alarms1 = set(_of_type(first, "AWS::CloudWatch::Alarm"))
    alarms2 = set(_of_type(second, "AWS::CloudWatch::Alarm"))
    assert alarms1 - old == alarms2 - new
    # The alias's deployment waits for the new alarms.
    (alias,) = _of_type(second, "AWS::Lambda::Alias").values()
    assert new <= set(alias["DependsOn"])


def test_canary_alarm_names_carry_the_version_and_may_still_publish(
    versions: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    first, second = versions
    names = []
    for template, number in ((first, "7"), (second, "8")):
        resolve = Resolver(template, version=number)
        (topic_id,) = _of_type(template, "AWS::SNS::Topic")
        statements = [s for p in _of_type(template, "AWS::SNS::TopicPolicy").values()
                      for s in resolve(p["Properties"]["PolicyDocument"])["Statement"]]  # fmt: skip
        for alarm_id in _rollback_ids(template):
            name = resolve.ref(alarm_id)
            assert name.startswith("orders-api-prod-Canary")
            assert name.endswith(f"-v{number}")
            names.append(name)
            arn = f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
            context = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": arn,
                       "aws:SecureTransport": "true"}  # fmt: skip
            publish = Request(("Service", "cloudwatch.amazonaws.com"), "sns:Publish",
                              resolve.ref(topic_id), context)  # fmt: skip
            assert allowed({"Statement": statements}, publish), name
    assert len(set(names)) == 6, json.dumps(names)  # no name is reused across versions

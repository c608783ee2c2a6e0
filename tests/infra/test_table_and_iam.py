"""The table matches the app's key schema; the function may do exactly what the store does."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from app.contract.table import DYNAMODB_ACTIONS, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from tests.infra.conftest import Synthesized


def test_table_key_schema_is_the_apps(stage: Synthesized) -> None:
    _, table = stage.only("AWS::DynamoDB::GlobalTable")
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": PARTITION_KEY.name, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY.name, "KeyType": "RANGE"},
    ]
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": PARTITION_KEY.name, "AttributeType": PARTITION_KEY.type},
        {"AttributeName": SORT_KEY.name, "AttributeType": SORT_KEY.type},
    ]
    assert "GlobalSecondaryIndexes" not in properties
    assert "LocalSecondaryIndexes" not in properties


def test_table_is_on_demand_with_pitr_and_ttl(stage: Synthesized) -> None:
    Template.from_json(stage.template_json).has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "Replicas": [
                {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
            ],
        },
    )


def test_prod_table_is_retained_and_deletion_protected(prod: Synthesized) -> None:
    _, table = prod.only("AWS::DynamoDB::GlobalTable")
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert [r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"]] == [True]


def test_dev_table_can_be_destroyed(dev: Synthesized) -> None:
    _, table = dev.only("AWS::DynamoDB::GlobalTable")
    assert table["DeletionPolicy"] == "Delete"
    assert [r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"]] == [False]
    _, pool = dev.only("AWS::Cognito::UserPool")
    assert pool["DeletionPolicy"] == "Delete"


def test_function_role_has_exactly_the_stores_actions_on_its_table(stage: Synthesized) -> None:
    table_id, _ = stage.only("AWS::DynamoDB::GlobalTable")
    statements = _statements(stage)
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))]
    assert len(dynamodb) == 1
    (statement,) = dynamodb
    assert sorted(_actions(statement)) == sorted(DYNAMODB_ACTIONS)
    assert "dynamodb:Scan" not in DYNAMODB_ACTIONS
    assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert statement["Effect"] == "Allow"


def test_logs_permissions_are_written_out_for_the_functions_log_group(stage: Synthesized) -> None:
    _, function = stage.only("AWS::Lambda::Function")
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    logs = [s for s in _statements(stage) if any(a.startswith("logs:") for a in _actions(s))]
    assert len(logs) == 1
    assert sorted(_actions(logs[0])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs[0]["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}


XRAY_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
CODEDEPLOY_POLICY = "iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited"


def test_no_wildcards_but_x_ray_and_no_managed_policies_but_codedeploys(
    stage: Synthesized,
) -> None:
    statements = _statements(stage)
    assert statements
    for statement in statements:
        assert all("*" not in action for action in _actions(statement)), statement
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            # X-Ray's write actions have no resource-level permissions.
            assert resource != "*" or sorted(_actions(statement)) == XRAY_ACTIONS, statement
    roles = {
        json.dumps(r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]): r
        for r in stage.resources("AWS::IAM::Role").values()
    }
    function = roles.pop(json.dumps({"Service": "lambda.amazonaws.com"}))
    assert "ManagedPolicyArns" not in function["Properties"]
    # CodeDeploy's service role shifts the alias: AWS's policy made for exactly that, only.
    (codedeploy,) = roles.values()
    (managed,) = codedeploy["Properties"]["ManagedPolicyArns"]
    assert CODEDEPLOY_POLICY in json.dumps(managed)
    assert "codedeploy" in json.dumps(codedeploy["Properties"]["AssumeRolePolicyDocument"])


def _statements(stage: Synthesized) -> list[dict[str, Any]]:
    return [
        statement
        for policy in stage.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)

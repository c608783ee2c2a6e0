"""What the alarms and the dashboard watch: the stack's resources, and the table's operations."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from app.contract.table import DYNAMODB_ACTIONS

# Every DynamoDB operation the store calls (its IAM actions, and the transactions they allow).
TABLE_OPERATIONS = tuple(
    dynamodb.Operation[
        "".join("_" + c if c.isupper() else c for c in a.split(":")[1]).lstrip("_").upper()
    ]
    for a in (*DYNAMODB_ACTIONS, "dynamodb:TransactWriteItems")
)


@dataclass(frozen=True)
class Monitored:
    """What the alarms watch."""

    alias: lambda_.Alias
    function: lambda_.Function
    api: apigwv2.HttpApi
    table: dynamodb.TableV2
    log_group: logs.ILogGroup

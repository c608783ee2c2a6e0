"""The Orders API stack: table, function, identity, HTTP API and their outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, CfnOutput, RemovalPolicy, Stack, Tags, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from app.contract.table import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, KeyAttribute
from infra.api import OrdersHttpApi
from infra.auth import jwt_issuer
from infra.bundling import lambda_code
from infra.compute import OrdersFunction
from infra.context import StageConfig
from infra.deployment import SafeDeployment
from infra.monitoring import NOTIFICATION_CHECK, OrdersMonitoring
from infra.watched import Monitored

KEY_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class OrdersApiStack(Stack):
    """Everything the service needs in one stage. Environment-agnostic: synthesizes offline."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        code: lambda_.Code | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            description=f"Orders API ({config.stage})",
            termination_protection=config.is_prod,
            **kwargs,
        )
        Tags.of(self).add("project", "orders-api")
        Tags.of(self).add("stage", config.stage)
        self.table = dynamodb.TableV2(
            self,
            "Orders",
            partition_key=attribute(PARTITION_KEY),
            sort_key=attribute(SORT_KEY),
            billing=dynamodb.Billing.on_demand(
                max_read_request_units=config.table_max_read_units,
                max_write_request_units=config.table_max_write_units,
            ),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            deletion_protection=config.is_prod,
            removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
        )
        jwt = jwt_issuer(self, config)
        orders = OrdersFunction(
            self, "Service", config=config, table=self.table, code=code or lambda_code()
        )
        http = OrdersHttpApi(self, "Http", config=config, target=orders.alias, jwt=jwt)
        watched = Monitored(orders.alias, orders.function, http.api, self.table, orders.log_group)
        monitoring = OrdersMonitoring(self, "Monitoring", config=config, watched=watched)
        SafeDeployment(
            self,
            "Deployment",
            config=config,
            alias=orders.alias,
            alarms=monitoring.rollback_alarms,
            canary_alarms=monitoring.canary_alarms,
        )

        CfnOutput(self, "ApiUrl", value=http.stage.url, description="Base URL of the API")
        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "FunctionName", value=orders.function.function_name)
        CfnOutput(
            self,
            "FunctionLogGroup",
            value=orders.log_group.log_group_name,
            description="The function's log group (named by CloudFormation, not /aws/lambda/...)",
        )
        CfnOutput(self, "JwtIssuer", value=jwt.issuer, description="Issuer the API trusts")
        CfnOutput(self, "AlarmTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(
            self,
            "NotificationCheckAlarm",
            value=monitoring.alarms[NOTIFICATION_CHECK].alarm_name,
            description="The alarm `make verify` sets to ALARM to prove notifications arrive",
        )
        CfnOutput(self, "DashboardName", value=monitoring.dashboard.dashboard_name)
        if jwt.user_pool is not None and jwt.client is not None:
            CfnOutput(self, "UserPoolId", value=jwt.user_pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=jwt.client.user_pool_client_id)


def attribute(key: KeyAttribute) -> dynamodb.Attribute:
    """A CDK key attribute from the app's key schema."""
    return dynamodb.Attribute(name=key.name, type=KEY_TYPES[key.type])


def build(app: App, *, code: lambda_.Code | None = None) -> OrdersApiStack:
    """The stage's stack (from the app's context), checked by cdk-nag's AwsSolutions pack."""
    config = StageConfig.from_context(app.node.try_get_context)
    stack = OrdersApiStack(app, config.stack_name, config=config, code=code)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack

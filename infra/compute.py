"""The Lambda function: arm64 Python 3.13, SnapStart alias, explicit logs, least privilege."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from app.contract.environment import env_name
from app.contract.table import DYNAMODB_ACTIONS
from infra.config import RETENTION_NAMES, StageConfig

HANDLER = "app.aws_lambda.handler.handler"
RUNTIME = lambda_.Runtime.PYTHON_3_13  # the bundle's bytecode and wheels are cp313
ALIAS_NAME = "live"


def application_log_level(log_level: str) -> lambda_.ApplicationLogLevel:
    """Lambda's filter for the function's lines: never above INFO, whatever ``log-level`` says.

    Lambda gives a line without a ``level`` (every EMF metric line) the level INFO and drops
    it under WARN and above: the metrics would vanish. The app applies ``LOG_LEVEL`` to its
    own loggers instead (and on Lambda to the root logger: app/aws_lambda/handler.py).
    """
    return (
        lambda_.ApplicationLogLevel.DEBUG
        if log_level == "DEBUG"
        else lambda_.ApplicationLogLevel.INFO
    )


def log_group(scope: Construct, id: str, config: StageConfig) -> logs.LogGroup:
    """A log group with the stage's retention, kept in prod when the stack goes."""
    return logs.LogGroup(
        scope,
        id,
        retention=retention(config.log_retention_days),
        removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
    )


def retention(days: int) -> logs.RetentionDays:
    """The ``RetentionDays`` member for a number of days."""
    return logs.RetentionDays[RETENTION_NAMES[days]]


class OrdersFunction(Construct):
    """The API's function and the ``live`` alias (SnapStart) that API Gateway invokes."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        table: dynamodb.ITableV2,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = log_group(self, "Logs", config)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Orders API function: its own log group and its table, nothing else",
        )
        # Written out instead of AWSLambdaBasicExecutionRole: only this function's log group.
        # The group's ARN attribute already ends in ":*", which covers its log streams.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=list(DYNAMODB_ACTIONS), resources=[table.table_arn])
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"Orders API ({config.stage})",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=code,
            role=role,
            memory_size=config.memory_mb,
            timeout=Duration.seconds(config.timeout_seconds),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=application_log_level(config.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=config.reserved_concurrency or None,
            environment={
                env_name("store_url"): f"dynamodb://{table.table_name}",
                env_name("identity_mode"): "gateway",
                env_name("greet_delay"): f"{config.greet_delay:g}",
                env_name("log_level"): config.log_level,
                env_name("stage"): config.stage,
                env_name("metrics"): "emf",
                # The same policy from the app, should API Gateway hand it a preflight.
                **(
                    {env_name("cors_origins"): ",".join(config.cors_origins)}
                    if config.cors_origins
                    else {}
                ),
            },
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
                "have no resource-level permissions, so X-Ray requires Resource *.",
            )
        )
        # current_version publishes a new version (snapshotted by SnapStart) on every change.
        self.alias = lambda_.Alias(
            self, "Alias", alias_name=ALIAS_NAME, version=self.function.current_version
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="Annotation::@aws-cdk/aws-lambda:snapStartRequirePublish",
                reason="Versions are published: current_version backs the live alias, which "
                "is the only thing API Gateway invokes.",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Pinned to Python 3.13: the bundle's wheels and bytecode are cp313 and "
                "the project tests on 3.13; moving runtimes is a deliberate change.",
            ),
        )

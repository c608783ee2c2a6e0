"""Alarms on the ``live`` alias, the API and the table; one SNS topic; a golden-signals dashboard.

Every threshold is a context knob (``alarm-*``, infra/config.py). Missing data is "not
breaching" everywhere: no invocation means no error, and a quiet dev stage stays green. Stages
that deploy all at once (dev) look at 5-minute periods, those with a canary (prod) at 1-minute
ones; all need 2 breaching periods out of 3, so one slow request on a quiet stage pages nobody.

Throttles (Lambda's and DynamoDB's) page but never roll a deployment back: they follow traffic
and capacity, not the version. The ``Canary*`` alarms watch the version the alias was last
deployed with, by ``ExecutedVersion``, so a canary's 10 % is judged on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from app.contract import metrics
from app.contract.table import DYNAMODB_ACTIONS
from infra.config import StageConfig

# Every DynamoDB operation the store calls (its IAM actions, and the transactions they allow).
TABLE_OPERATIONS = tuple(
    dynamodb.Operation[
        "".join("_" + c if c.isupper() else c for c in a.split(":")[1]).lstrip("_").upper()
    ]
    for a in (*DYNAMODB_ACTIONS, "dynamodb:TransactWriteItems")
)
# Below this many requests in a period, the 5xx share counts as 0 (2 requests, 1 error ≠ 50 %).
MIN_REQUESTS_FOR_RATE = 10
# What the new version does itself. The app answers its own failures as HTTP 500 (no Lambda
# error): only the API's 5xx share sees them, diluted by the versions sharing the traffic.
CANARY_ALARMS = ("CanaryErrors", "CanaryDurationP99")
ROLLBACK_ALARMS = (*CANARY_ALARMS, "Api5xxRate")


@dataclass(frozen=True)
class Monitored:
    """What the alarms watch."""

    alias: lambda_.Alias
    function: lambda_.Function
    api: apigwv2.HttpApi
    table: dynamodb.TableV2
    log_group: logs.ILogGroup


class OrdersMonitoring(Construct):
    """The alarm topic, the alarms (``rollback_alarms`` are CodeDeploy's) and the dashboard."""

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, watched: Monitored
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        canary = config.deployment != "all-at-once"
        self.period = Duration.minutes(1 if config.is_prod or canary else 5)
        self.topic = self._topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._alarms(watched)
        self.rollback_alarms = [self.alarms[name] for name in ROLLBACK_ALARMS]
        self.canary_alarms = [self.alarms[name] for name in CANARY_ALARMS]
        self.dashboard = self._dashboard(watched)

    @property
    def alarm_prefix(self) -> str:
        """Every alarm's name starts with it; the topic and its key trust only these alarms."""
        return f"orders-api-{self.config.stage}-"

    def _topic(self) -> sns.Topic:
        # CloudWatch publishes to an encrypted topic only with a customer managed key it may use.
        key = kms.Key(
            self,
            "TopicKey",
            description=f"Orders API ({self.config.stage}) alarm topic encryption",
            enable_key_rotation=True,
            # dev's goes with the stack, as its other resources do (deleted after the waiting
            # period KMS requires, 7 to 30 days); prod's outlives it like its table and logs.
            removal_policy=RemovalPolicy.RETAIN if self.config.is_prod else RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"Orders API ({self.config.stage}) alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # A topic policy replaces SNS's default one, and enforce_ssl's holds only a Deny: CloudWatch
        # is allowed explicitly, on behalf of this stack's alarms only (confused deputy), on the
        # topic and on the key SNS encrypts with while CloudWatch publishes.
        cloudwatch_alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_alarms],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=self._alarm_source(),
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncrypt",
                principals=[cloudwatch_alarms],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=self._alarm_source(),
            )
        )
        if self.config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        return topic

    def _alarm_source(self) -> dict[str, dict[str, str]]:
        stack = Stack.of(self)
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{self.alarm_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        return {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": alarms},
        }

    def _alarms(self, w: Monitored) -> None:
        t = self.config.alarms
        p = self.period
        self._alarm(
            "LambdaErrors",
            w.alias.metric_errors(period=p, statistic="Sum"),
            t.errors,
            "The function failed (crash, timeout, out of memory) on the live alias.",
        )
        self._alarm(
            "LambdaThrottles",
            w.alias.metric_throttles(period=p, statistic="Sum"),
            t.throttles,
            "Invocations of the live alias were throttled.",
        )
        timeout_ms = self.config.timeout_seconds * 1000
        self._alarm(
            "LambdaDurationP99",
            w.alias.metric_duration(period=p, statistic="p99"),
            timeout_ms * t.duration_percent / 100,
            f"p99 duration is above {t.duration_percent} % of the {timeout_ms} ms timeout.",
        )
        self._alarm(
            "CanaryErrors",
            self._version_metric(w, "Errors", "Sum"),
            t.errors,
            "The version deployed last failed (crash, timeout, out of memory) on the live alias.",
        )
        self._alarm(
            "CanaryDurationP99",
            self._version_metric(w, "Duration", "p99"),
            timeout_ms * t.duration_percent / 100,
            f"The version deployed last has a p99 duration above {t.duration_percent} % of the "
            f"{timeout_ms} ms timeout.",
        )
        server_errors = w.api.metric_server_error(period=p, statistic="Sum")
        requests = w.api.metric_count(period=p, statistic="Sum")
        rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {MIN_REQUESTS_FOR_RATE}, 100 * errors / requests, 0)",
            using_metrics={"errors": server_errors, "requests": requests},
            period=p,
            label="5xx %",
        )
        self._alarm(
            "Api5xxRate",
            rate,
            t.server_error_percent,
            f"Above {t.server_error_percent} % of API requests answered 5xx.",
        )
        self._alarm(
            "ApiLatencyP99",
            w.api.metric_latency(period=p, statistic="p99"),
            t.latency_p99_ms,
            f"API p99 latency is above {t.latency_p99_ms} ms.",
        )
        self._alarm(
            "DynamoDBThrottles",
            w.table.metric_throttled_requests_for_operations(
                operations=list(TABLE_OPERATIONS), period=p
            ),
            t.dynamodb_throttles,
            "DynamoDB throttled the table's requests "
            "(on-demand maximum throughput or a hot partition).",
        )
        self._alarm(
            "DynamoDBSystemErrors",
            w.table.metric_system_errors_for_operations(
                operations=list(TABLE_OPERATIONS), period=p
            ),
            t.dynamodb_errors,
            "DynamoDB answered internal errors.",
        )
        if self.config.reserved_concurrency:
            limit = self.config.reserved_concurrency * t.concurrency_percent / 100
            concurrency = w.function.metric(
                "ConcurrentExecutions", period=Duration.minutes(1), statistic="Maximum"
            )
            self._alarm(
                "ConcurrencyNearLimit",
                concurrency,
                limit,
                f"Concurrency is above {t.concurrency_percent} % of the reserved "
                f"{self.config.reserved_concurrency}.",
            )

    def _version_metric(self, w: Monitored, name: str, statistic: str) -> cloudwatch.Metric:
        """``name`` of the alias's invocations that ran the version the alias was deployed with."""
        function = w.function.function_name
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=name,
            dimensions_map={
                "FunctionName": function,
                "Resource": f"{function}:{w.alias.alias_name}",
                "ExecutedVersion": w.alias.version.version,
            },
            statistic=statistic,
            period=self.period,
        )

    def _alarm(
        self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=self.alarm_prefix + name,
            metric=metric,
            alarm_description=description + " Runbook: docs/operations.md.",
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm

    def _dashboard(self, w: Monitored) -> cloudwatch.Dashboard:
        p = Duration.minutes(1)
        stage = {metrics.STAGE_DIMENSION: self.config.stage}

        def app(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=metrics.NAMESPACE,
                metric_name=name,
                dimensions_map=stage,
                statistic=statistic,
                period=p,
            )

        def graph(title: str, *left: cloudwatch.IMetric) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(left), width=8, height=6)

        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"orders-api-{self.config.stage}"
        )
        dashboard.add_widgets(
            graph(
                "Traffic",
                w.api.metric_count(period=p, statistic="Sum"),
                w.alias.metric_invocations(period=p),
            ),
            graph(
                "Errors",
                w.api.metric_server_error(period=p),
                w.api.metric_client_error(period=p),
                w.alias.metric_errors(period=p),
            ),
            graph(
                "Latency p50/p99 (ms)",
                w.api.metric_latency(period=p, statistic="p50"),
                w.api.metric_latency(period=p, statistic="p99"),
                w.alias.metric_duration(period=p, statistic="p50"),
                w.alias.metric_duration(period=p, statistic="p99"),
            ),
        )
        dashboard.add_widgets(
            graph(
                "Throttles",
                w.alias.metric_throttles(period=p),
                w.table.metric_throttled_requests_for_operations(
                    operations=list(TABLE_OPERATIONS), period=p
                ),
            ),
            graph(
                "Concurrency",
                w.function.metric("ConcurrentExecutions", period=p, statistic="Maximum"),
            ),
            graph(
                "Orders",
                *(app(name) for name in metrics.BUSINESS_COUNTS),
            ),
        )
        dashboard.add_widgets(
            # Under SnapStart a new environment restores the snapshot: restoreReport is the
            # cold start. initReport comes from publishing a version (the snapshot's init).
            cloudwatch.LogQueryWidget(
                title="Cold starts (SnapStart restores)",
                log_group_names=[w.log_group.log_group_name],
                query_lines=[
                    'filter type = "platform.restoreReport"',
                    "stats count(*) as restores by bin(5m)",
                ],
                view=cloudwatch.LogQueryVisualizationType.BAR,
                width=12,
                height=6,
            ),
            graph(
                "Requests and server errors by the app",
                app(metrics.REQUESTS),
                app(metrics.SERVER_ERRORS),
                app(metrics.LATENCY, "p99"),
            ),
        )
        return dashboard

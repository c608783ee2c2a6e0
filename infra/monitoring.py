"""Alarms on the ``live`` alias, the API and the table; one SNS topic; a golden-signals dashboard.

Every threshold is a context knob (``alarm-*``, infra/config.py). Missing data is "not
breaching" everywhere: no invocation means no error, and a quiet dev stage stays green. dev
looks at 5-minute periods and prod at 1-minute ones (a canary lasts 5 minutes); both need 2
breaching periods out of 3, so one slow request on a quiet stage pages nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
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

from app import metrics
from app.store.dynamodb.table import DYNAMODB_ACTIONS
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
ROLLBACK_ALARMS = (
    "LambdaErrors",
    "LambdaThrottles",
    "LambdaDurationP99",
    "Api5xxRate",
    "ApiLatencyP99",
    "DynamoDBThrottles",
)


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
        self.period = Duration.minutes(1 if config.is_prod else 5)
        self.topic = self._topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._alarms(watched)
        self.rollback_alarms = [self.alarms[name] for name in ROLLBACK_ALARMS]
        self.dashboard = self._dashboard(watched)

    def _topic(self) -> sns.Topic:
        # CloudWatch publishes to an encrypted topic only with a customer managed key it may use.
        key = kms.Key(
            self,
            "TopicKey",
            description=f"Orders API ({self.config.stage}) alarm topic encryption",
            enable_key_rotation=True,
        )
        key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"Orders API ({self.config.stage}) alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if self.config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        return topic

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

    def _alarm(
        self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
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

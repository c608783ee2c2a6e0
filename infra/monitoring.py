"""Alarms on the ``live`` alias, the API and the table; one SNS topic; a golden-signals dashboard.

Every threshold is a context knob (``alarm-*``, infra/context.py). Missing data is "not
breaching" everywhere: no invocation means no error, and a quiet dev stage stays green. Stages
that deploy all at once (dev) look at 5-minute periods, those with a canary (prod) at 1-minute
ones; all need 2 breaching periods out of 3, so one slow request on a quiet stage pages nobody.

Throttles (Lambda's and DynamoDB's) page but never roll a deployment back: they follow traffic
and capacity, not the version. The ``Canary*`` alarms watch the version the alias was last
deployed with (Lambda's ``ExecutedVersion`` dimension, the app's ``version``), so a canary's 10 %
is judged on its own; they alone roll a deployment back. Each version gets alarms of its own
(``orders-api-<stage>-CanaryErrors-v<version>``, a logical id per version): an alarm CloudFormation
merely updated would keep its state, and one left in ALARM by a failing version would roll back
the fix deployed after it at once. New alarms start in INSUFFICIENT_DATA and judge only the new
version; CloudFormation deletes the previous version's once the update succeeds.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from app.contract import metrics
from infra.alarm_topic import alarm_topic
from infra.context import StageConfig
from infra.dashboard import golden_signals
from infra.versioned import per_version
from infra.watched import TABLE_OPERATIONS, Monitored

# Below this many requests in a period, the 5xx share counts as 0 (2 requests, 1 error ≠ 50 %).
MIN_REQUESTS_FOR_RATE = 10
# What the new version does itself, and all a deployment rolls back on: Lambda's errors and
# duration of its invocations, and the app's own 500s (which Lambda does not count as errors).
CANARY_ALARMS = ("CanaryErrors", "CanaryDurationP99", "CanaryInternalErrors")
ROLLBACK_ALARMS = CANARY_ALARMS
# Never fires on its own (no one emits its metric): `make verify` sets it to ALARM to prove that a
# notification reaches the topic (infra/verify/), without touching an alarm CodeDeploy reads.
NOTIFICATION_CHECK = "NotificationCheck"
NOTIFICATION_CHECK_METRIC = "NotificationCheck"


class OrdersMonitoring(Construct):
    """The alarm topic, the alarms (``rollback_alarms`` are CodeDeploy's) and the dashboard."""

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, watched: Monitored
    ) -> None:
        super().__init__(scope, id)
        self.config = config
        canary = config.deployment != "all-at-once"
        self.period = Duration.minutes(1 if config.is_prod or canary else 5)
        self.topic = alarm_topic(self, config, self.alarm_prefix)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._alarms(watched)
        self.rollback_alarms = [self.alarms[name] for name in ROLLBACK_ALARMS]
        self.canary_alarms = [self.alarms[name] for name in CANARY_ALARMS]
        self.dashboard = golden_signals(self, config, watched)

    @property
    def alarm_prefix(self) -> str:
        """Every alarm's name starts with it; the topic and its key trust only these alarms."""
        return f"orders-api-{self.config.stage}-"

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
            version=w.alias.version,
        )
        self._alarm(
            "CanaryDurationP99",
            self._version_metric(w, "Duration", "p99"),
            timeout_ms * t.duration_percent / 100,
            f"The version deployed last has a p99 duration above {t.duration_percent} % of the "
            f"{timeout_ms} ms timeout.",
            version=w.alias.version,
        )
        self._alarm(
            "CanaryInternalErrors",
            cloudwatch.Metric(
                namespace=metrics.NAMESPACE,
                metric_name=metrics.INTERNAL_ERRORS,
                dimensions_map={
                    metrics.STAGE_DIMENSION: self.config.stage,
                    metrics.VERSION_DIMENSION: w.alias.version.version,
                },
                statistic="Sum",
                period=self.period,
            ),
            t.errors,
            "The version deployed last answered HTTP 500 (an unexpected failure in the app).",
            version=w.alias.version,
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
        self._alarm(
            NOTIFICATION_CHECK,
            cloudwatch.Metric(
                namespace=metrics.NAMESPACE,
                metric_name=NOTIFICATION_CHECK_METRIC,
                dimensions_map={metrics.STAGE_DIMENSION: self.config.stage},
                statistic="Sum",
                period=p,
            ),
            1,
            "Never fires on its own: `make verify` sets it to ALARM to prove that notifications "
            "reach the topic; it returns to OK at its next evaluation.",
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
        self,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        version: lambda_.IVersion | None = None,
    ) -> None:
        """An alarm notifying the topic; with ``version``, one of that version's own."""
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=self.alarm_prefix + name + (f"-v{version.version}" if version else ""),
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
        if version is not None:
            per_version(alarm, version)
        self.alarms[name] = alarm

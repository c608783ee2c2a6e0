"""The golden-signals dashboard of one stage (``orders-api-<stage>``)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from app.contract import metrics
from infra.context import StageConfig
from infra.watched import TABLE_OPERATIONS, Monitored


def golden_signals(scope: Construct, config: StageConfig, w: Monitored) -> cloudwatch.Dashboard:
    """Traffic, errors, latency, throttles, concurrency, orders and cold starts, per minute."""
    p = Duration.minutes(1)
    stage = {metrics.STAGE_DIMENSION: config.stage}

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
        scope, "Dashboard", dashboard_name=f"orders-api-{config.stage}"
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

"""Per-request CloudWatch metrics: one Embedded Metric Format (EMF) line per request on stdout.

CloudWatch Logs turns each line into metric values: no client, no API call, nothing to flush
later (the line is written and flushed before the invocation returns). The line is built
here, with ``json`` only, instead of with Powertools' metrics utility, whose import and size
the Lambda asset would pay for (docs/operations.md, docs/performance.md). The names and units
are the contract's (``app.contract.metrics``), which the stack's alarms and dashboard read.

Metrics are per route *template* (``GET /orders/{order_id}``), never per raw path. Business
counts are read off the outcome the app already answered (which route, which status, whether
the ``Idempotent-Replayed`` header is set): the service stays pure and the routes untouched.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.contract.metrics import (
    CLIENT_ERRORS,
    DIMENSION_SETS,
    IDEMPOTENT_REPLAYS,
    LATENCY,
    NAMESPACE,
    REPLAYED_HEADER,
    REQUESTS,
    ROUTE_DIMENSION,
    SERVER_ERRORS,
    STAGE_DIMENSION,
    STATUS_COUNTS,
    SUCCESS_COUNTS,
    UNITS,
    UNMATCHED,
)
from app.http.middleware.request_ids import gateway_request_id, trace_id

REPLAYED = REPLAYED_HEADER.lower().encode()

Write = Callable[[str], None]
# One encoder: json.dumps(..., separators=...) builds a new one per call (a third of its cost).
_encode = json.JSONEncoder(separators=(",", ":")).encode


def stdout_line(line: str) -> None:
    """Write one line to the current ``sys.stdout`` and flush it (Lambda ships it as one event)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def route_template(scope: Scope) -> str:
    """``METHOD /template`` of the route that served the request, else ``UNMATCHED``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return f"{scope['method']} {template}" if template else UNMATCHED


def outcome_counts(scope: Scope, status: int, replayed: bool) -> dict[str, int]:
    """The business counts one answered request adds (empty for most requests)."""
    counts: dict[str, int] = {}
    if replayed and status < 300:
        counts[IDEMPOTENT_REPLAYS] = 1
    elif 200 <= status < 300:
        name = SUCCESS_COUNTS.get(getattr(scope.get("route"), "name", ""))
        if name is not None:
            counts[name] = 1
    if status in STATUS_COUNTS:
        counts[STATUS_COUNTS[status]] = 1
    return counts


def emf_line(
    *,
    stage: str,
    route: str,
    values: dict[str, float],
    properties: dict[str, Any],
    timestamp_ms: int,
) -> str:
    """One EMF document as a JSON line: the ``_aws`` metadata, the dimensions and every metric.

    The metadata's declarations are the same for every request that counts the same metrics:
    serialized once per set of names (a handful), only the values are serialized per request.
    """
    members = _encode({STAGE_DIMENSION: stage, ROUTE_DIMENSION: route, **properties, **values})
    directives = _directives(tuple(values))
    return f'{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":{directives}}},{members[1:]}'


@cache
def _directives(names: tuple[str, ...]) -> str:
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": [list(dimensions) for dimensions in DIMENSION_SETS],
        "Metrics": [{"Name": name, "Unit": UNITS[name]} for name in names],
    }
    return _encode([directive])


class EmfMetricsMiddleware:
    """Pure ASGI middleware: after each HTTP request, one EMF line through ``write``."""

    def __init__(self, app: ASGIApp, *, stage: str, write: Write = stdout_line) -> None:
        self.app = app
        self.stage = stage
        self.write = write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = {"status": 500, "replayed": False}

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["replayed"] = any(
                    name.lower() == REPLAYED for name, _ in message.get("headers") or ()
                )
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            self._emit(scope, int(answer["status"]), bool(answer["replayed"]), started)

    def _emit(self, scope: Scope, status: int, replayed: bool, started: float) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        values: dict[str, float] = {
            REQUESTS: 1,
            LATENCY: latency_ms,
            CLIENT_ERRORS: int(400 <= status < 500),
            SERVER_ERRORS: int(status >= 500),
            **outcome_counts(scope, status, replayed),
        }
        properties = {
            "status": status,
            "status_class": f"{status // 100}xx",
            "trace_id": trace_id(scope),
            "apigw_request_id": gateway_request_id(scope.get("aws.event")),
        }
        line = emf_line(
            stage=self.stage,
            route=route_template(scope),
            values=values,
            properties=properties,
            timestamp_ms=int(time.time() * 1000),
        )
        self.write(line)

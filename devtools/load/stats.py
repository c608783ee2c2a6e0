"""Answers classified and summarised: counts, statuses, error kinds, rates and percentiles.

API Gateway answers its own throttle with 429 ``{"message":"Too Many Requests"}``; when
Lambda throttles the function (``TooManyRequestsException``) API Gateway shows the caller a
500 with the body ``{"message":"Internal Server Error"}`` — the same answer as a function
error, which the caller cannot tell apart (against the local runtime, its throttle count can).
The app's own 503 carries the app's JSON error body (``{"detail": ...}``).
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.load.runner import Record

ERROR_KINDS = ("gateway_throttle_429", "lambda_throttle_500", "app_503", "other_5xx", "transport")
GATEWAY_500 = {"message": "Internal Server Error"}


def classify(status: int, body: bytes) -> str | None:
    """The error kind of one answer (None for a non-error)."""
    if status == 429:
        return "gateway_throttle_429"
    if status == 503:
        return "app_503"
    if status == 500 and _json(body) == GATEWAY_500:
        return "lambda_throttle_500"
    if status >= 500:
        return "other_5xx"
    return None


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of ascending ``ordered`` (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _ms(value: float) -> float:
    return round(value * 1000, 3)


def summary(records: Sequence[Record], seconds: float) -> dict[str, Any]:
    """STATS for ``records`` (one route's or all): ``seconds`` is the planned duration.

    Rates and the mean in flight are over the same window, from the start to the later of the
    schedule's end and the last answer, so that achieved rate * mean service time = mean in
    flight (Little's law) holds exactly."""
    sent = [r for r in records if r.sent is not None]
    completed = [r for r in sent if r.completed]
    latency = sorted(r.done - r.scheduled for r in sent if r.done is not None)
    service = sorted(r.done - r.sent for r in sent if r.done is not None and r.sent is not None)
    errors = Counter(r.error for r in sent if r.error)
    window = max(seconds, max((r.done for r in sent if r.done is not None), default=0.0))
    return {
        "offered": len(records),
        "sent": len(sent),
        "completed": len(completed),
        "dropped": sum(1 for r in records if r.dropped),
        "status": {str(k): n for k, n in sorted(Counter(r.status for r in completed).items())},
        "errors": {kind: errors.get(kind, 0) for kind in ERROR_KINDS},
        "offered_rate": round(len(records) / seconds, 3),
        "achieved_rate": round(len(completed) / window, 3),
        **{name: _ms(percentile(latency, q)) for name, q in QUANTILES.items()},
        "max": _ms(latency[-1]) if latency else 0.0,
        "mean": _ms(sum(latency) / len(latency)) if latency else 0.0,
        "service": {
            **{name: _ms(percentile(service, QUANTILES[name])) for name in ("p50", "p90", "p99")},
            "max": _ms(service[-1]) if service else 0.0,
            "mean": _ms(sum(service) / len(service)) if service else 0.0,
        },
        # Little's law over the run: time spent in flight / time
        "mean_in_flight": round(sum(service) / window, 3),
    }


QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99, "p999": 0.999}


def error_ratio(stats: dict[str, Any]) -> float:
    """Share of offered requests without a 2xx/3xx answer: error statuses (4xx included: a
    refused token is no success), transport failures and requests dropped at the cap."""
    offered: int = stats["offered"]
    good = sum(n for status, n in stats["status"].items() if 200 <= int(status) < 400)
    return (offered - good) / offered if offered else 0.0


def timeline(records: Sequence[Record], elapsed: float, step: float = 1.0) -> list[dict[str, Any]]:
    """Per ``step`` seconds: requests sent and completed in it, in flight at its end, and the
    p50/p99 latency (from the scheduled time) of those completed in it."""
    buckets = max(1, math.ceil(elapsed / step))
    sent = [0] * buckets
    done: list[list[float]] = [[] for _ in range(buckets)]
    edges: list[tuple[float, int]] = []
    for r in records:
        if r.sent is None:
            continue
        sent[min(buckets - 1, int(r.sent / step))] += 1
        edges.append((r.sent, 1))
        if r.done is not None:
            if r.completed:
                done[min(buckets - 1, int(r.done / step))].append(r.done - r.scheduled)
            edges.append((r.done, -1))
    edges.sort()
    rows, level, k = [], 0, 0
    for i in range(buckets):
        end = (i + 1) * step
        while k < len(edges) and edges[k][0] < end:
            level += edges[k][1]
            k += 1
        ordered = sorted(done[i])
        rows.append({
            "t": round(end, 3), "sent": sent[i], "completed": len(ordered), "in_flight": level,
            "p50": _ms(percentile(ordered, 0.5)), "p99": _ms(percentile(ordered, 0.99)),
        })  # fmt: skip
    return rows

"""What the local runtime did during a run, from the gateway emulator's stats endpoint
(``devtools.gateway.load_stats``): the difference between a reading before and one after."""

from __future__ import annotations

from typing import Any

import httpx

from devtools.load.stats import percentile

STATS_PATH = "/_local/stats"


async def read(client: httpx.AsyncClient) -> dict[str, Any] | None:
    """The emulator's counters, or None when the target is not ``make gateway``."""
    try:
        answer = await client.get(STATS_PATH)
        document = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return document if isinstance(document, dict) and "environments_started" in document else None


def difference(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, Any]:
    """The run's share of the counters (``runtime`` in report.json); ``requests``: how many
    the run sent (the CPU figures are per sent request)."""
    counters = ("environments_started", "cold_starts", "restores", "throttles")
    reports: dict[str, Any] = {}
    for route, now in after["reports"].items():
        then = before["reports"].get(route, {"count": 0, "duration_sum": 0.0, "billed_sum": 0})
        count = now["count"] - then["count"]
        if count <= 0:
            continue
        samples = [s for s in now["samples"] if s["seq"] > before["seq"]]
        durations = sorted(s["duration_ms"] for s in samples)
        inits = [s["init_ms"] for s in samples if s["init_ms"] is not None]
        reports[route] = {
            "count": count,
            "duration_ms": {
                "p50": round(percentile(durations, 0.5), 3),
                "p99": round(percentile(durations, 0.99), 3),
                "mean": round((now["duration_sum"] - then["duration_sum"]) / count, 3),
            },
            "billed_ms": {"mean": round((now["billed_sum"] - then["billed_sum"]) / count, 3)},
            "max_memory_mb": max((s["max_memory_mb"] for s in samples), default=0),
            "init_ms": {
                "count": len(inits),
                "mean": round(sum(inits) / len(inits), 3) if inits else 0.0,
                "max": round(max(inits), 3) if inits else 0.0,
            },
        }
    cpu = {
        name: round((after["cpu_ms"][name] - before["cpu_ms"][name]) / max(1, requests), 3)
        for name in ("gateway", "runtime", "moto")
    }
    return {
        **{name: after[name] - before[name] for name in counters},
        "peak_environments": after["peak_environments"],
        "reports": reports,
        "cpu_ms_per_request": cpu,
    }

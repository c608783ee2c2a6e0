"""``GET /_local/stats``'s counters stay bounded however long the emulator runs: per route,
exact counts and sums, and a reservoir of at most ``RESERVOIR`` REPORTs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.gateway.load_stats import RESERVOIR, RuntimeStats
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.local_lambda import LocalLambda, Result
from devtools.lambda_runtime.reports import Report


@pytest.fixture
def service() -> Iterator[LocalLambda]:
    function = FunctionConfig(
        name="f", handler="h.h", runtime="python3.13", memory_mb=512, timeout=3,
        variables={}, log_format="JSON", application_log_level="INFO",
        system_log_level="INFO", snap_start=False, reserved_concurrency=10,
    )  # fmt: skip
    service = LocalLambda(function, "http://127.0.0.1:1")
    yield service
    service.stop()  # never started: closes its sockets


def event(method: str, path: str) -> dict[str, object]:
    return {"rawPath": path, "requestContext": {"http": {"method": method}}}


def test_counts_are_exact_and_samples_bounded(service: LocalLambda) -> None:
    stats = RuntimeStats(service)
    total = 3 * RESERVOIR
    for n in range(total):
        report = Report(
            request_id=str(n), duration_ms=1.5, memory_size_mb=512, max_memory_used_mb=60,
            restore_duration_ms=200.0 if n == 0 else None,
        )  # fmt: skip
        stats.observe(event("GET", f"/orders/{n}"), Result(b"{}", report=report))
    throttled = Result(b"{}", rejected="TooManyRequestsException", status_code=429)
    stats.observe(event("GET", "/hi"), throttled)
    service.peak_in_flight = 7
    reading = stats.document()
    get = reading["reports"]["get"]
    assert get["count"] == total
    assert get["duration_sum"] == pytest.approx(1.5 * total)
    assert get["billed_sum"] == 2 * total
    assert len(get["samples"]) == RESERVOIR
    assert {s["seq"] for s in get["samples"]} <= set(range(1, total + 1))
    assert max(s["seq"] for s in get["samples"]) > RESERVOIR  # later REPORTs get in too
    assert set(reading["reports"]) == {"get"}  # a throttled invocation has no REPORT
    assert (reading["throttles"], reading["restores"], reading["cold_starts"]) == (1, 1, 0)
    assert reading["environments_started"] == 1
    assert reading["peak_environments"] == 7
    assert stats.document()["peak_environments"] == 0  # the watermark restarts at each reading
    assert reading["reserved_concurrency"] == 10
    assert set(reading["cpu_ms"]) == {"gateway", "runtime", "moto"}

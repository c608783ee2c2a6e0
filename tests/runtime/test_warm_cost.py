"""The warm-cost section's readings through the local runtime: a handler of known CPU cost
(spent on a thread that ends before the response) is read at that cost, from the thaw to the
freeze; its REPORT's billed duration is its Duration rounded up to the millisecond."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.lambda_cost import invocation_cpu_ms, stopped
from devtools.lambda_runtime.local_lambda import LocalLambda, Result
from tests.runtime.conftest import StartLambda, probe_function

pytestmark = pytest.mark.slow
CPU_MS = 40


def test_a_known_cpu_cost_is_read_whole_and_billed_from_report(
    start_lambda: StartLambda, probe_root: Path
) -> None:
    service: LocalLambda = start_lambda(
        probe_function("burn_in_thread"), init_type="on-demand", task_root=probe_root
    )
    service.invoke({"cpu_ms": 1})  # init, then warm
    environment = service.environment
    assert environment is not None
    assert environment.process is not None
    pid = environment.process.pid
    for _ in range(3):
        result, spent = invocation_cpu_ms(pid, lambda: service.invoke({"cpu_ms": CPU_MS}))
        assert isinstance(result, Result)
        assert result.function_error is None, result.document()
        assert stopped(pid)  # read after the freeze
        burnt = json.loads(result.document()["body"])["cpu_ms"]
        assert burnt >= CPU_MS
        # the handler's thread, plus the runtime client's work for one event (a few ms)
        assert burnt <= spent < burnt + 15
        report = result.report
        assert report is not None
        assert report.billed_duration_ms == math.ceil(report.duration_ms)
        assert report.duration_ms >= burnt  # CPU time cannot exceed the wall time it took
        assert f"Billed Duration: {report.billed_duration_ms} ms" in report.text()

"""Each environment gets the CPU and memory its memory size buys on Lambda (cgroups), and a
``make gateway CONTEXT=...`` knob sizes it as it sizes the stack.

The CPU and memory tests need a host that lets this process create control groups (root, a
writable cgroup v1 or v2 hierarchy with the controller); elsewhere they are skipped with the
host's reason printed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devtools.gateway.knobs import stack_context
from devtools.lambda_runtime import cgroups
from devtools.lambda_runtime.cgroup_host import Hierarchy, find
from devtools.lambda_runtime.function import FunctionConfig, synthesized_template
from devtools.lambda_runtime.local_lambda import LocalLambda
from tests.runtime.conftest import StartLambda, probe_function

StartSized = Callable[..., LocalLambda]
CPU_MS = 50  # of CPU work per invocation: ~50 ms at 1,769 MB, ~173 ms at 512 MB
ROUNDS = 7


def require(controller: str) -> Hierarchy:
    found = find(controller)
    if isinstance(found, str):
        print(f"cgroup {controller}: {found}")  # the reason, in the test's output
        pytest.skip(f"this host forbids cgroup {controller} limits: {found}")
    return found


@pytest.fixture
def start_sized(start_lambda: StartLambda, probe_root: Path) -> StartSized:
    """``start_sized(handler, memory_mb, **options)``: the probe's handler at that size, on
    demand, its CPU scaled."""

    def start(handler: str, memory_mb: int, **options: Any) -> LocalLambda:
        function = probe_function(handler).replace(memory_mb=memory_mb)
        options.setdefault("scale_cpu", True)
        return start_lambda(function, init_type="on-demand", task_root=probe_root, **options)

    return start


def burn(service: LocalLambda) -> tuple[float, float]:
    """One invocation of ``CPU_MS`` of CPU work: (its wall time in the environment, its REPORT
    Duration), in ms."""
    result = service.invoke({"cpu_ms": CPU_MS})
    assert result.function_error is None, result.document()
    assert result.report is not None
    body = json.loads(result.document()["body"])
    assert body["cpu_ms"] >= CPU_MS
    assert result.report.duration_ms >= body["wall_ms"]
    return body["wall_ms"], result.report.duration_ms


def test_an_environment_at_512_mb_takes_1769_over_512_times_as_long(
    start_sized: StartSized,
) -> None:
    """The same CPU work (50 ms of CPU time, however busy the host) at 512 MB and at 1,769 MB
    (one vCPU) takes wall times in the ratio of the memory sizes, ±20 %: alternated, so that
    the host's load weighs on both alike, medians of 7. The wall time is the handler's, in the
    environment: the REPORT Duration adds the Runtime API's round trip, served by this test's
    process, which the quota does not govern (on a loaded host it adds the same milliseconds
    to both sizes and pulls their ratio down)."""
    require("cpu")
    small, full = start_sized("burn", 512), start_sized("burn", 1769)
    assert small.cpu_scaled
    assert full.cpu_scaled
    burn(small), burn(full)  # the inits
    walls: dict[int, list[float]] = {512: [], 1769: []}
    reports: dict[int, list[float]] = {512: [], 1769: []}
    for _ in range(ROUNDS):
        for size, service in ((512, small), (1769, full)):
            wall, reported = burn(service)
            walls[size].append(wall)
            reports[size].append(reported)
    ratio = statistics.median(walls[512]) / statistics.median(walls[1769])
    reported = statistics.median(reports[512]) / statistics.median(reports[1769])
    expected = 1769 / 512
    environment = small.environment
    assert environment is not None
    assert environment.group is not None
    throttles, throttled_s = environment.group.throttled()
    print(f"wall 512 MB {walls[512]} ms; 1769 MB {walls[1769]} ms; ratio {ratio:.2f}")
    print(f"REPORT 512 MB {reports[512]} ms; 1769 MB {reports[1769]} ms; ratio {reported:.2f}")
    print(f"512 MB throttled {throttles} times, {throttled_s * 1000:.0f} ms in all")
    assert abs(ratio / expected - 1) <= 0.2, (ratio, expected, walls)
    assert throttled_s * 1000 >= ROUNDS * CPU_MS * (expected - 1) * 0.8


def test_an_environment_over_its_memory_size_ends_as_on_lambda_and_is_replaced(
    start_sized: StartSized,
) -> None:
    """Lambda ends an environment that exceeds its memory size: the invocation fails with
    ``Runtime.OutOfMemory``, the REPORT shows the memory size used up, and the next invocation
    gets a new environment."""
    require("memory")
    service = start_sized("hog", 128, scale_cpu=False)
    assert service.invoke({"mb": 8}).function_error is None
    first = service.environment
    assert first is not None
    assert first.group is not None
    directories = list(first.group.directories.values())
    assert all(d.is_dir() for d in directories)
    result = service.invoke({"mb": 256})
    assert result.function_error == "Unhandled"
    assert result.document() == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": "Runtime exited with error: signal: killed",
    }
    report = service.reports[-1]
    assert (report.status, report.error_type) == ("error", "Runtime.OutOfMemory")
    assert report.max_memory_used_mb == report.memory_size_mb == 128
    assert "Max Memory Used: 128 MB" in report.text()
    assert not first.alive
    assert not any(d.exists() for d in directories)  # its groups went with it
    assert service.invoke({"mb": 8}).function_error is None
    assert len(service.environments) == 2
    assert service.environment is not first


def test_figures_at_the_hosts_full_cpu_say_unscaled(start_sized: StartSized) -> None:
    service = start_sized("burn", 512, scale_cpu=False)
    result = service.invoke({"cpu_ms": 1})
    assert result.report is not None
    assert not result.report.cpu_scaled
    assert result.report.text().endswith("\tCPU: unscaled")
    assert '"cpu": "unscaled"' in service.logs.lines()[-1]
    assert service.describe_limits().startswith("CPU unscaled (not asked for)")


def test_groups_are_removed_at_the_stop_and_a_dead_runs_at_the_start(
    start_sized: StartSized,
) -> None:
    hierarchy = require("cpu")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    leftover = hierarchy.base / f"{cgroups.PREFIX}{done.stdout.strip()}"
    (leftover / "env-1").mkdir(parents=True)
    service = start_sized("burn", 512)
    assert not leftover.exists()
    service.invoke({"cpu_ms": 1})
    parent = hierarchy.base / f"{cgroups.PREFIX}{os.getpid()}"
    assert service.environment is not None
    assert service.environment.group is not None
    group = service.environment.group.directories["cpu"]
    assert group.parent == parent
    assert group.is_dir()
    service.stop()
    assert not parent.exists()


def test_gateway_context_knobs_size_the_environments_and_the_throttle(
    start_lambda: StartLambda, probe_root: Path
) -> None:
    """``make gateway CONTEXT="-c memory-mb=256 -c reserved-concurrency=1"``: the function
    the stack defines with those knobs gets 256/1769 of a CPU, 256 MB, and one environment."""
    cpu, memory = require("cpu"), require("memory")
    context = stack_context(["memory-mb=256", "reserved-concurrency=1"], "dev")
    function = FunctionConfig.from_template(synthesized_template("dev", context=context))
    assert (function.memory_mb, function.reserved_concurrency) == (256, 1)
    probe = function.replace(handler="probe.slow", variables={"PROBE_SLEEP": "1"})
    service = start_lambda(probe, init_type="on-demand", task_root=probe_root, scale_cpu=True)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(service.invoke, [{}, {}]))
    assert sorted(r.status_code for r in results) == [200, 429]
    assert service.throttles == 1
    (environment,) = service.environments
    assert environment.group is not None
    quota, period = cgroups.cpu_quota(256 / 1769)
    directories = environment.group.directories
    if cpu.version == 1:
        assert (directories["cpu"] / "cpu.cfs_quota_us").read_text().strip() == str(quota)
        assert (directories["cpu"] / "cpu.cfs_period_us").read_text().strip() == str(period)
    else:
        assert (directories["cpu"] / "cpu.max").read_text().split() == [str(quota), str(period)]
    limit = directories["memory"] / memory.files()["limit"]
    assert int(limit.read_text()) == 256 * 1024 * 1024


@pytest.mark.parametrize("pair", ["memory-mb=64", "memory-mb=lots", "memory-mb"])
def test_a_knob_the_stack_would_refuse_is_refused_before_anything_starts(pair: str) -> None:
    with pytest.raises(ValueError, match="memory-mb"):
        stack_context([pair], "dev")


def test_make_gateway_refuses_a_bad_knob_in_one_line_before_starting() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devtools.gateway", "--port", "1", "-c", "memory-mb=64"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "make gateway: context memory-mb='64': expected 128..10240"

"""What one warm invocation costs: the function's CPU, REPORT's billed duration, and the price.

- ``cpu_ms``: a process's CPU time, every thread's (the SnapStart section reads it too);
- ``invocation_cpu_ms``: the runtime process's CPU over one invocation, from the thaw to the
  freeze that follows it (the local runtime stops the process with SIGSTOP once it asks for
  the next event): what the runtime client does after posting the response counts too.
- ``cost_per_million``: Lambda's price of a million requests of one billed duration at one
  memory size: requests plus GB-seconds (memory in GB = MB / 1024,
  https://aws.amazon.com/lambda/pricing/).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_CPUCLOCK_SCHED = 2  # the scheduler's runtime (CPUCLOCK_SCHED), of the whole process


@dataclass(frozen=True)
class LambdaPrices:
    """Lambda's on-demand prices for one architecture and Region, with where they were read."""

    gb_second_usd: float
    request_usd: float
    source: str
    read_on: str


# The one place the bench takes Lambda's prices from: arm64 (the stack's architecture), US East
# (N. Virginia), the first tier of GB-seconds. Repoint it at the project's pinned price file
# when there is one.
LAMBDA_ARM64 = LambdaPrices(
    gb_second_usd=0.0000133334,
    request_usd=0.20 / 1_000_000,
    source="https://aws.amazon.com/lambda/pricing/",
    read_on="2026-12-07",
)


def cost_per_million(
    billed_ms: float, memory_mb: int, prices: LambdaPrices = LAMBDA_ARM64
) -> float:
    """USD for a million invocations billed ``billed_ms`` each (a mean) at ``memory_mb``."""
    gb_seconds = billed_ms / 1000 * memory_mb / 1024
    return 1_000_000 * (gb_seconds * prices.gb_second_usd + prices.request_usd)


def cpu_ms(pid: int) -> float:
    """CPU time of process ``pid`` so far: all its threads, the ended ones too (the runtime
    client starts a thread per invocation; FastAPI runs a sync route on a worker thread).

    Read from the process's CPU-time clock (``clock_getcpuclockid(3)``; Linux encodes a
    process's scheduler clock as ``(~pid << 3) | 2``, see linux/include/linux/posix-timers.h),
    in nanoseconds. The live threads' ``/proc/<pid>/task/*/schedstat``, read before, missed
    the threads that had ended."""
    return time.clock_gettime_ns((~pid << 3) | _CPUCLOCK_SCHED) / 1e6


def stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped by a signal (state T in ``/proc/<pid>/stat``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


def wait_stopped(pid: int, timeout: float = 2.0) -> bool:
    """Wait until ``pid`` is stopped (at most ``timeout`` seconds); whether it is."""
    deadline = time.monotonic() + timeout
    while not stopped(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.0002)
    return True


def invocation_cpu_ms(pid: int, invoke: Callable[[], T]) -> tuple[T, float]:
    """``invoke()``'s result and the CPU (ms) process ``pid`` spent on it, up to its freeze."""
    before = cpu_ms(pid)
    result = invoke()
    wait_stopped(pid)
    return result, cpu_ms(pid) - before


def percentile(samples: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.99: p99) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]

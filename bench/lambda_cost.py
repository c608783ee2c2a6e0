"""What one warm invocation costs: the function's CPU, REPORT's billed duration, and the price.

- ``cpu_ms``: a process's CPU time, every thread's (the SnapStart section reads it too);
- ``invocation_cpu_ms``: the runtime process's CPU over one invocation, from the thaw to the
  freeze that follows it (the local runtime stops the process with SIGSTOP once it asks for
  the next event): what the runtime client does after posting the response counts too.
- ``cost_per_million``: Lambda's price of a million requests of one billed duration at one
  memory size: requests plus GB-seconds (memory in GB = MB / 1024,
  https://aws.amazon.com/lambda/pricing/), at the project's pinned prices (``lambda_prices``).
- ``cheapest``: the memory size whose cost is least among those that keep a p99 under its
  objective.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from devtools.capacity.prices import Prices

T = TypeVar("T")
_CPUCLOCK_SCHED = 2  # the scheduler's runtime (CPUCLOCK_SCHED), of the whole process


@dataclass(frozen=True)
class LambdaPrices:
    """Lambda's on-demand prices for the stack's architecture (arm64), with where they were read."""

    gb_second_usd: float
    request_usd: float
    source: str
    read_on: str


def lambda_prices() -> LambdaPrices:
    """arm64 GB-seconds and requests from the project's pinned prices
    (devtools/capacity/prices.toml, each figure with its source and read date)."""
    prices = Prices.load()
    compute, requests = (prices.figures[n] for n in ("lambda_arm64_gb_second", "lambda_request"))
    return LambdaPrices(
        gb_second_usd=compute.value,
        request_usd=requests.value / 1_000_000,  # the file gives USD per million requests
        source=compute.source,
        read_on=compute.read.isoformat(),
    )


def cost_per_million(billed_ms: float, memory_mb: int, prices: LambdaPrices) -> float:
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


@dataclass(frozen=True)
class Sized:
    """One memory size's figures for one route: its p99 Duration and its cost per million."""

    memory_mb: int
    p99_ms: float
    cost: float


def cheapest(sizes: Sequence[Sized], p99_limit_ms: float) -> Sized | None:
    """The size with the least cost among those whose p99 is within ``p99_limit_ms`` (the
    smaller size on a tie); None when none is."""
    kept = [s for s in sizes if s.p99_ms <= p99_limit_ms]
    return min(kept, key=lambda s: (s.cost, s.memory_mb)) if kept else None

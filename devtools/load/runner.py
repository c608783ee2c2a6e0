"""The open-loop runner: sends each scheduled request at its time, whatever came before.

A request's latency runs from its scheduled time (what a user arriving then would wait), its
service time from the moment the client started sending it. A request due while
``max_in_flight`` are outstanding is not sent and counts as dropped. How late each request
left is kept: when the generator itself falls behind (more than ``LATE_SHARE`` of the requests
leave over ``LAG_BOUND`` seconds late), the run is invalid, as its figures would describe a
gentler load than the plan's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devtools.load.client import Pool, TransportError
from devtools.load.mix import Request
from devtools.load.plan import Arrival, Plan
from devtools.load.stats import classify

LAG_BOUND = 0.050  # seconds
LATE_SHARE = 0.01
START_DELAY = 0.05  # the schedule starts this long after the run is set up


@dataclass
class Record:
    """What became of one scheduled request; times in seconds from the schedule's start."""

    route: str
    scheduled: float
    sent: float | None = None
    done: float | None = None
    status: int | None = None
    error: str | None = None  # a classification (``stats.classify``) or "transport"
    dropped: bool = False

    @property
    def completed(self) -> bool:
        return self.status is not None

    @property
    def lag(self) -> float:
        return 0.0 if self.sent is None else self.sent - self.scheduled


@dataclass
class Outcome:
    """A run's records, how long it lasted and whether its generator kept up."""

    records: list[Record]
    elapsed: float
    late: int = 0
    max_lag: float = 0.0
    cpu_ms_per_request: float = 0.0  # this process's CPU (client and generator) per send
    invalid_reason: str | None = field(default=None)


async def run(
    plan: Plan,
    schedule: list[Arrival],
    client: Pool,
    build: Callable[[Arrival], Request],
    *,
    drain: float = 30.0,
    lag_bound: float = LAG_BOUND,
) -> Outcome:
    """Send ``schedule`` through ``client``; wait at most ``drain`` s for the last answers."""
    loop = asyncio.get_running_loop()
    start = loop.time() + START_DELAY
    records: list[Record] = []
    tasks: set[asyncio.Task[None]] = set()
    in_flight = 0
    cpu = time.process_time()

    async def send(record: Record, request: Request) -> None:
        nonlocal in_flight
        record.sent = loop.time() - start
        try:
            answer = await client.request(
                request.method, request.path, request.headers, request.json
            )
            record.status = answer.status
            record.error = classify(answer.status, answer.content)
        except TransportError:
            record.error = "transport"
        finally:
            record.done = loop.time() - start
            in_flight -= 1

    for arrival in schedule:
        request = build(arrival)  # before the wait: building is not the target's time
        delay = start + arrival.at - loop.time()
        await asyncio.sleep(max(0.0, delay))
        record = Record(arrival.route, arrival.at)
        records.append(record)
        if in_flight >= plan.max_in_flight:
            record.dropped = True
            continue
        in_flight += 1
        task = asyncio.create_task(send(record, request))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=drain)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for record in records:
        if record.sent is not None and record.done is None:  # cancelled after the drain
            record.error, record.done = "transport", loop.time() - start
    outcome = judged(records, loop.time() - start, lag_bound)
    sent = sum(1 for r in records if r.sent is not None)
    outcome.cpu_ms_per_request = (time.process_time() - cpu) * 1000 / max(1, sent)
    return outcome


def judged(records: list[Record], elapsed: float, lag_bound: float = LAG_BOUND) -> Outcome:
    """``records`` with the generator's verdict: invalid when too many left late."""
    sent = [r for r in records if r.sent is not None]
    late = sum(1 for r in sent if r.lag > lag_bound)
    max_lag = max((r.lag for r in sent), default=0.0)
    outcome = Outcome(records, elapsed, late, max_lag)
    if sent and late > LATE_SHARE * len(sent):
        outcome.invalid_reason = (
            f"the generator fell behind its schedule: {late} of {len(sent)} requests left more "
            f"than {lag_bound * 1000:g} ms late (bound: {LATE_SHARE:.0%}; worst "
            f"{max_lag * 1000:.0f} ms)"
        )
    return outcome

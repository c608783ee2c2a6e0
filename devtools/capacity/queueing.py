"""Queueing arithmetic the model rests on: Little's law, Erlang's loss formula, a token bucket.

- An execution environment serves one request at a time and Lambda queues none: a request that
  arrives while all ``N`` environments the function may have are busy is throttled. That is a
  loss system, M/G/N/N, whose loss is Erlang's B formula, which holds for any distribution of
  the service time (insensitivity), so for a 3 s greeting as for a 14 ms read.
- API Gateway's throttle is a token bucket per route (``devtools/gateway/throttle.py``). With
  Poisson arrivals and a bucket of one token, a request is admitted only when a full ``1/rate``
  has passed since the last admission: an M/D/1/1 loss system, Erlang B with one server. Larger
  buckets have no closed form: they are simulated on a seeded schedule (deterministic).
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from typing import Literal

Arrival = Literal["poisson", "constant"]
SIMULATED_ARRIVALS = 100_000


def erlang_b(servers: int, load: float) -> float:
    """The share of arrivals lost by ``servers`` servers offered ``load`` erlangs (rate x mean
    holding time), from the stable recurrence B(n) = A·B(n-1) / (n + A·B(n-1))."""
    if load < 0 or servers < 0:
        raise ValueError("load and servers must not be negative")
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def servers_for(load: float, loss: float) -> int:
    """The fewest servers whose Erlang B loss at ``load`` is at most ``loss``."""
    if not 0 < loss < 1:
        raise ValueError("loss must be between 0 and 1")
    servers, blocking = 0, 1.0
    while blocking > loss:
        servers += 1
        blocking = load * blocking / (servers + load * blocking)
    return servers


def peak_in_flight(load: float, arrivals: float, arrival: Arrival = "poisson") -> int:
    """The most requests in flight to expect at once over a run of ``arrivals`` requests with
    mean ``load`` in flight: with a constant schedule and a steady holding time, ``ceil(load)``;
    with Poisson arrivals, the level an M/G/∞ occupancy (Poisson with mean ``load``) exceeds
    with probability ``1/arrivals``, about once in the run."""
    if load <= 0:
        return 0
    if arrival == "constant":
        return math.ceil(load - 1e-9)
    tail = 1.0 / max(arrivals, 1.0)
    n, term = 0, math.exp(-load)
    cumulative = term
    while 1.0 - cumulative > tail:
        n += 1
        term *= load / n
        cumulative += term
    return n


def token_bucket_refused(
    offered: float,
    rate: float,
    burst: int,
    *,
    arrival: Arrival = "poisson",
    seconds: float | None = None,
    seed: int = 28,
) -> float:
    """The share of requests a token bucket (``rate`` tokens a second, ``burst`` at most, full
    at the start) refuses when offered ``offered`` requests a second: in the long run, or over
    a run of ``seconds`` from a full bucket."""
    if offered <= 0:
        return 0.0
    if rate <= 0 or burst < 1:
        return 1.0
    if seconds is None:
        if arrival == "constant":
            return max(0.0, 1.0 - rate / offered)
        if burst == 1:
            load = offered / rate
            return load / (1.0 + load)
    return _simulate(offered, rate, burst, arrival, seconds, seed)


@lru_cache(maxsize=256)
def _simulate(
    offered: float, rate: float, burst: int, arrival: Arrival, seconds: float | None, seed: int
) -> float:
    """Run the bucket on a seeded schedule; a long run for the stationary share, else as many
    runs of ``seconds`` as make about ``SIMULATED_ARRIVALS`` requests."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    per_run = SIMULATED_ARRIVALS if seconds is None else max(1, round(offered * seconds))
    runs = 1 if seconds is None else max(1, SIMULATED_ARRIVALS // per_run)
    if arrival == "constant":
        runs = 1
    refused = sent = 0
    for _ in range(runs):
        tokens, now, last = float(burst), 0.0, 0.0
        for i in range(per_run):
            now = (i / offered) if arrival == "constant" else now + rng.expovariate(offered)
            tokens = min(float(burst), tokens + (now - last) * rate)
            last = now
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                refused += 1
            sent += 1
        if seconds is None:  # the first burst is not the long run: count from a full bucket
            break
    return refused / sent

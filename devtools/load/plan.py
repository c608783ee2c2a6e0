"""What a run will do, fixed before it starts: target, rate, duration, mix, caps and the
seeded schedule of arrivals.

The schedule is open-loop: arrival times do not depend on how fast the target answers.
Constant arrivals are evenly spaced; Poisson arrivals have exponential gaps (the sum of many
independent users). An optional ramp raises the rate linearly from 0 to ``rate`` over
``ramp_seconds``; both are drawn on the same time change (arrival ``k`` of a unit-rate process
is placed where the ramped rate's integral reaches it), so a seed fixes the whole sequence.
"""

from __future__ import annotations

import ipaddress
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Hard caps: a run can never offer more than this, whatever it is asked.
MAX_RATE = 2000.0  # requests per second
MAX_SECONDS = 600.0
MAX_REQUESTS = 200_000
MAX_IN_FLIGHT = 1024


class PlanError(ValueError):
    """The plan is refused (exit 2) before any connection is made."""


@dataclass(frozen=True)
class Arrival:
    """One scheduled request: when (seconds after the start), which route, its index."""

    index: int
    at: float
    route: str


@dataclass(frozen=True)
class Plan:
    """A run's parameters, as ``report.json`` records them under ``plan``."""

    target: str
    kind: str  # "server", "gateway" or "remote"
    rate: float
    seconds: float
    mix: dict[str, float]
    arrival: str = "constant"  # or "poisson"
    ramp_seconds: float = 0.0
    max_in_flight: int = 256
    max_requests: int = 0  # 0: rate x seconds (rounded up), within MAX_REQUESTS
    seed: int = 1
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.rate <= MAX_RATE:
            raise PlanError(f"rate must be in (0, {MAX_RATE:g}] requests/s, not {self.rate:g}")
        if not 0 < self.seconds <= MAX_SECONDS:
            raise PlanError(f"seconds must be in (0, {MAX_SECONDS:g}], not {self.seconds:g}")
        if not 0 <= self.ramp_seconds <= self.seconds:
            raise PlanError("ramp_seconds must be between 0 and seconds")
        if self.arrival not in ("constant", "poisson"):
            raise PlanError(f"arrival must be constant or poisson, not {self.arrival!r}")
        if not 1 <= self.max_in_flight <= MAX_IN_FLIGHT:
            raise PlanError(f"max_in_flight must be in [1, {MAX_IN_FLIGHT}]")
        if not 0 <= self.max_requests <= MAX_REQUESTS:
            raise PlanError(f"max_requests must be in [0, {MAX_REQUESTS}]")
        if not self.mix or any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise PlanError("the mix needs at least one route with a positive weight")
        if self.kind not in ("server", "gateway", "remote"):
            raise PlanError(f"kind must be server, gateway or remote, not {self.kind!r}")

    @property
    def request_cap(self) -> int:
        wanted = self.max_requests or math.ceil(self.rate * self.seconds)
        return min(wanted, MAX_REQUESTS)

    def document(self) -> dict[str, Any]:
        """The plan as ``report.json`` records it."""
        document = asdict(self)
        document.pop("extra")
        document["max_requests"] = self.request_cap
        return document

    def describe(self) -> str:
        """The plan in a few lines, printed before the first request."""
        mix = ",".join(f"{route}:{weight:g}" for route, weight in self.mix.items())
        ramp = f", ramp {self.ramp_seconds:g} s" if self.ramp_seconds else ""
        return (
            f"load plan: {self.kind} target {self.target}\n"
            f"  {self.arrival} arrivals at {self.rate:g} req/s for {self.seconds:g} s{ramp}, "
            f"seed {self.seed}\n"
            f"  mix {mix}\n"
            f"  caps: {self.request_cap} requests, {self.max_in_flight} in flight "
            f"(hard limits {MAX_RATE:g} req/s, {MAX_SECONDS:g} s, {MAX_REQUESTS} requests)"
        )


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine by a loopback address or ``localhost`` (no lookup:
    a name is not resolved, so nothing leaves the machine to decide)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, *, remote: bool) -> None:
    """Refuse (``PlanError``) a URL that is not http(s), or not loopback without ``remote``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlanError(f"not an http(s) URL: {url!r}")
    if not remote and not is_loopback(url):
        raise PlanError(
            f"{parts.hostname} is not a loopback address: to load a deployed API, say so "
            "explicitly (make load REMOTE=1, python -m devtools.load --remote)"
        )


def _ramped_time(mass: float, rate: float, ramp: float) -> float:
    """The time at which the integral of the ramped rate reaches ``mass`` arrivals."""
    if ramp > 0 and mass < rate * ramp / 2:
        return math.sqrt(2 * ramp * mass / rate)
    return mass / rate + ramp / 2


def arrivals(plan: Plan) -> list[Arrival]:
    """The run's schedule: every request's time and route, the same for the same plan."""
    rng = random.Random(plan.seed)  # noqa: S311 - a load schedule, not a secret
    routes = list(plan.mix)
    weights = [plan.mix[r] for r in routes]
    schedule: list[Arrival] = []
    mass = 0.0
    while len(schedule) < plan.request_cap:
        mass += rng.expovariate(1.0) if plan.arrival == "poisson" else 1.0
        # constant: the k-th arrival at (k - 1/2)/rate, so a 1 s run at 10/s sends 10, not 9
        at = _ramped_time(mass - (0.5 if plan.arrival == "constant" else 0.0), plan.rate,
                          plan.ramp_seconds)  # fmt: skip
        if at >= plan.seconds:
            break
        route = rng.choices(routes, weights)[0]
        schedule.append(Arrival(len(schedule), at, route))
    return schedule

"""API Gateway's route throttling for an HTTP API stage, read from the synthesized template.

From "Throttling requests to your HTTP API": a token bucket per route (a token per request;
``burst`` is the bucket's size, ``rate`` its refill per second, full at the start). The stage's
``DefaultRouteSettings`` apply to every route that ``RouteSettings`` does not name; a request
that finds its route's bucket empty is answered ``429 {"message":"Too Many Requests"}`` before
the authorizer or the integration runs. The account-level limits (10,000 requests/s, burst
5,000 per Region) are far above a stage's and are left out.

Written here rather than taken from a rate-limiting library: the ones on PyPI implement fixed
or sliding windows, or a leaky bucket that delays instead of refusing, none API Gateway's rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

STAGE_TYPE = "AWS::ApiGatewayV2::Stage"


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float  # tokens per second
    burst: int  # bucket size

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Limits | None:
        if "ThrottlingRateLimit" not in settings and "ThrottlingBurstLimit" not in settings:
            return None
        return cls(
            rate=float(settings.get("ThrottlingRateLimit", 0)),
            burst=int(settings.get("ThrottlingBurstLimit", 0)),
        )


@dataclass
class TokenBucket:
    limits: Limits
    clock: Callable[[], float]
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.limits.burst)
        self.updated = self.clock()

    def take(self) -> bool:
        now = self.clock()
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limits.burst), self.tokens + elapsed * self.limits.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class StageThrottle:
    """The throttles of one stage: ``admit(route_key)`` takes a token from that route's bucket."""

    def __init__(
        self,
        default: Limits | None,
        routes: Mapping[str, Limits],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self.routes = dict(routes)
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_template(
        cls, template: Mapping[str, Any], clock: Callable[[], float] = time.monotonic
    ) -> StageThrottle:
        """The throttles of the template's (one) HTTP API stage."""
        (stage,) = [r for r in template["Resources"].values() if r["Type"] == STAGE_TYPE]
        properties = stage["Properties"]
        default = Limits.from_settings(properties.get("DefaultRouteSettings", {}))
        routes = {
            key: limits
            for key, settings in properties.get("RouteSettings", {}).items()
            if (limits := Limits.from_settings(settings)) is not None
        }
        return cls(default, routes, clock)

    def describe(self) -> str:
        """The limits in one line, e.g. ``ANY /hi 0.12/s burst 1; other routes 50/s burst 100``."""
        parts = [f"{key} {_text(limits)}" for key, limits in sorted(self.routes.items())]
        default = _text(self.default) if self.default else "unthrottled"
        return "; ".join([*parts, f"other routes {default}"])

    def limits(self, route_key: str) -> Limits | None:
        return self.routes.get(route_key, self.default)

    def admit(self, route_key: str) -> bool:
        limits = self.limits(route_key)
        if limits is None:
            return True
        with self._lock:
            bucket = self._buckets.get(route_key)
            if bucket is None:
                bucket = self._buckets[route_key] = TokenBucket(limits, self.clock)
            return bucket.take()


def _text(limits: Limits) -> str:
    return f"{limits.rate:g}/s burst {limits.burst}"

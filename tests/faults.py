"""A fault-injecting httpx transport in front of moto: throttling, 5xx, timeouts, lost answers."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass

import httpx

DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"

# fault name -> (status, DynamoDB error type) of an answer sent instead of forwarding
ERROR_ANSWERS: dict[str, tuple[int, str]] = {
    "throttling": (400, "ThrottlingException"),
    "provisioned-throughput": (400, "ProvisionedThroughputExceededException"),
    "request-limit": (400, "RequestLimitExceeded"),
    "internal-error": (500, "InternalServerError"),
    "bad-gateway": (502, "BadGateway"),
    "unavailable": (503, "ServiceUnavailable"),
}
# answers of a misconfigured store: no retry can help
MISCONFIGURED_ANSWERS: dict[str, tuple[int, str]] = {
    "missing-table": (400, "ResourceNotFoundException"),
    "access-denied": (400, "AccessDeniedException"),
    "unknown-key-id": (400, "UnrecognizedClientException"),
    "bad-signature": (403, "InvalidSignatureException"),
}
# fault name -> the transport error raised instead of forwarding
TRANSPORT_ERRORS: dict[str, type[httpx.TransportError]] = {
    "read-timeout": httpx.ReadTimeout,
    "connect-error": httpx.ConnectError,
}
FAULTS = (*ERROR_ANSWERS, *TRANSPORT_ERRORS)


@dataclass
class Plan:
    """Inject ``fault`` into the next ``times`` requests whose action is in ``actions``.

    ``after_forwarding`` sends the request to the server first and then fails: the write is
    applied but its answer is lost (the ambiguous case retries must handle).
    """

    fault: str
    actions: frozenset[str]
    times: int
    after_forwarding: bool = False


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to the real transport unless the current plan says otherwise."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.plan: Plan | None = None
        self.calls: Counter[str] = Counter()  # every request, by action
        self.injected: Counter[str] = Counter()  # faulted requests, by action
        self._frozen: tuple[frozenset[str] | None, float] | None = None
        self._thawed = asyncio.Event()
        self._held: list[asyncio.Task[str]] = []

    def inject(
        self, fault: str, *actions: str, times: int = 1_000_000, after_forwarding: bool = False
    ) -> None:
        assert fault in FAULTS or fault in MISCONFIGURED_ANSWERS, fault
        self.plan = Plan(fault, frozenset(actions), times, after_forwarding)
        self.injected.clear()

    def heal(self) -> None:
        self.plan = None

    def freeze(self, *actions: str, read_timeout: float) -> None:
        """The endpoint stops answering (a stopped process): each request (of ``actions``, or
        every one) is held until ``thaw()`` and only then reaches the table, while its caller
        gets ``httpx.ReadTimeout`` after ``read_timeout`` seconds."""
        self._frozen = (frozenset(actions) or None, read_timeout)
        self._thawed.clear()

    async def thaw(self) -> list[str]:
        """Let the held requests through, in order; the actions that were applied late."""
        self._frozen = None
        self._thawed.set()
        applied = [await held for held in self._held]
        self._held.clear()
        return applied

    async def _apply_after_thaw(self, action: str, request: httpx.Request) -> str:
        await self._thawed.wait()
        response = await self._inner.handle_async_request(request)
        await response.aread()
        return action

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        action = request.headers.get("x-amz-target", "").rpartition(".")[2]
        self.calls[action] += 1
        frozen = self._frozen
        if frozen is not None and (frozen[0] is None or action in frozen[0]):
            await request.aread()
            self._held.append(asyncio.create_task(self._apply_after_thaw(action, request)))
            await asyncio.sleep(frozen[1])
            raise httpx.ReadTimeout("frozen endpoint", request=request)
        plan = self.plan
        if plan is None or action not in plan.actions or plan.times <= 0:
            return await self._inner.handle_async_request(request)
        plan.times -= 1
        self.injected[action] += 1
        if plan.after_forwarding:
            response = await self._inner.handle_async_request(request)
            await response.aread()
        if plan.fault in TRANSPORT_ERRORS:
            raise TRANSPORT_ERRORS[plan.fault]("injected fault", request=request)
        status, error_type = {**ERROR_ANSWERS, **MISCONFIGURED_ANSWERS}[plan.fault]
        body = {"__type": DYNAMODB_ERROR_PREFIX + error_type, "message": "injected fault"}
        return httpx.Response(
            status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    async def aclose(self) -> None:
        await self._inner.aclose()

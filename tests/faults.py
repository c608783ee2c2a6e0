"""A fault-injecting stand-in for the store's connection pool in front of moto: throttling, 5xx,
timeouts, lost answers."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass

import httpcore

DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"

# fault name -> (status, DynamoDB error type or None for an answer without one) of an answer
# sent instead of forwarding. Between them, these are every error the DynamoDB API reference lists
# for the calls the store makes: the errors common to all actions
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html), each
# action's Errors section (GetItem, PutItem, UpdateItem, DeleteItem, Query, TransactWriteItems)
# and the developer guide's table (.../developerguide/Programming.Errors.html), plus what a proxy
# in between may answer (429, 504, 413 without an error type).
ERROR_ANSWERS: dict[str, tuple[int, str | None]] = {
    "throttling": (400, "ThrottlingException"),
    "provisioned-throughput": (400, "ProvisionedThroughputExceededException"),
    "request-limit": (400, "RequestLimitExceeded"),
    "internal-error": (500, "InternalServerError"),
    "bad-gateway": (502, "BadGateway"),
    "unavailable": (503, "ServiceUnavailable"),
}
# transient too (retried within the budget, then 503 with Retry-After: 1)
MORE_TRANSIENT_ANSWERS: dict[str, tuple[int, str | None]] = {
    "transaction-conflict": (400, "TransactionConflictException"),
    "transaction-in-progress": (400, "TransactionInProgressException"),
    "replicated-write-conflict": (400, "ReplicatedWriteConflictException"),
    "limit-exceeded": (400, "LimitExceededException"),
    "internal-failure": (500, "InternalFailure"),
    "too-many-requests": (429, None),
    "gateway-timeout": (504, None),
}
# answers of a misconfigured store: no retry can help
MISCONFIGURED_ANSWERS: dict[str, tuple[int, str | None]] = {
    "missing-table": (400, "ResourceNotFoundException"),
    "access-denied": (400, "AccessDeniedException"),
    "not-authorized": (400, "NotAuthorized"),
    "unknown-key-id": (400, "UnrecognizedClientException"),
    "invalid-client-token": (403, "InvalidClientTokenId"),
    "bad-signature": (403, "InvalidSignatureException"),
    "incomplete-signature": (400, "IncompleteSignatureException"),
    "missing-token": (400, "MissingAuthenticationTokenException"),
    "opt-in-required": (403, "OptInRequired"),
    "request-expired": (400, "RequestExpired"),
    "item-collection-size": (400, "ItemCollectionSizeLimitExceededException"),
    "resource-in-use": (400, "ResourceInUseException"),
    "invalid-endpoint": (421, "InvalidEndpointException"),
    "unknown-operation": (400, "UnknownOperationException"),
    "invalid-action": (400, "InvalidAction"),
}
# requests the store could never accept as sent: a JSON error at once, never retried
REFUSED_ANSWERS: dict[str, tuple[int, str | None]] = {
    "validation": (400, "ValidationException"),
    "validation-error": (400, "ValidationError"),
    "serialization": (400, "SerializationException"),
    "idempotent-parameter-mismatch": (400, "IdempotentParameterMismatchException"),
    "bad-request": (400, None),
    "payload-too-large": (413, None),
}
# TransactWriteItems cancelled for a reason (the order's item, the key's record)
CANCELLED_ANSWERS: dict[str, list[str]] = {
    "cancelled-validation": ["ValidationError", "None"],
    "cancelled-item-collection": ["ItemCollectionSizeLimitExceeded", "None"],
}
ANSWERS = {
    **ERROR_ANSWERS,
    **MORE_TRANSIENT_ANSWERS,
    **MISCONFIGURED_ANSWERS,
    **REFUSED_ANSWERS,
    **dict.fromkeys(CANCELLED_ANSWERS, (400, "TransactionCanceledException")),
}
# fault name -> the transport error raised instead of forwarding
TRANSPORT_ERRORS: dict[str, type[Exception]] = {
    "read-timeout": httpcore.ReadTimeout,
    "connect-error": httpcore.ConnectError,
    "connection-reset": httpcore.ReadError,
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


def _answer(status: int, content: bytes, content_type: bytes) -> httpcore.Response:
    return httpcore.Response(status, headers=[(b"content-type", content_type)], content=content)


class FaultyTransport:
    """Forwards to a real connection pool unless the current plan says otherwise (the store's
    ``connections``)."""

    def __init__(self) -> None:
        self._inner = httpcore.AsyncConnectionPool()
        self.plan: Plan | None = None
        self.calls: Counter[str] = Counter()  # every request, by action
        self.injected: Counter[str] = Counter()  # faulted requests, by action
        self._frozen: tuple[frozenset[str] | None, float] | None = None
        self._thawed = asyncio.Event()
        self._held: list[asyncio.Task[str]] = []

    def inject(
        self, fault: str, *actions: str, times: int = 1_000_000, after_forwarding: bool = False
    ) -> None:
        assert fault in FAULTS or fault in ANSWERS, fault
        self.plan = Plan(fault, frozenset(actions), times, after_forwarding)
        self.injected.clear()

    def heal(self) -> None:
        self.plan = None

    def freeze(self, *actions: str, read_timeout: float) -> None:
        """The endpoint stops answering (a stopped process): each request (of ``actions``, or
        every one) is held until ``thaw()`` and only then reaches the table, while its caller
        gets ``httpcore.ReadTimeout`` after ``read_timeout`` seconds."""
        self._frozen = (frozenset(actions) or None, read_timeout)
        self._thawed.clear()

    async def thaw(self) -> list[str]:
        """Let the held requests through, in order; the actions that were applied late."""
        self._frozen = None
        self._thawed.set()
        applied = [await held for held in self._held]
        self._held.clear()
        return applied

    async def _forward(self, request: httpcore.Request) -> None:
        """Send ``request`` to the table and drop its answer."""
        response = await self._inner.handle_async_request(request)
        await response.aread()
        await response.aclose()

    async def _apply_after_thaw(self, action: str, request: httpcore.Request) -> str:
        await self._thawed.wait()
        await self._forward(request)
        return action

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        target = next((v for k, v in request.headers if k.lower() == b"x-amz-target"), b"")
        action = target.decode().rpartition(".")[2]
        self.calls[action] += 1
        frozen = self._frozen
        if frozen is not None and (frozen[0] is None or action in frozen[0]):
            self._held.append(asyncio.create_task(self._apply_after_thaw(action, request)))
            await asyncio.sleep(frozen[1])
            raise httpcore.ReadTimeout("frozen endpoint")
        plan = self.plan
        if plan is None or action not in plan.actions or plan.times <= 0:
            return await self._inner.handle_async_request(request)
        plan.times -= 1
        self.injected[action] += 1
        if plan.after_forwarding:
            await self._forward(request)
        if plan.fault in TRANSPORT_ERRORS:
            raise TRANSPORT_ERRORS[plan.fault]("injected fault")
        status, error_type = ANSWERS[plan.fault]
        if error_type is None:  # a proxy's answer: no DynamoDB error in the body
            return _answer(status, b"", b"text/plain")
        body: dict[str, object] = {
            "__type": DYNAMODB_ERROR_PREFIX + error_type,
            "message": "injected fault",
        }
        if plan.fault in CANCELLED_ANSWERS:
            codes = CANCELLED_ANSWERS[plan.fault]
            body["CancellationReasons"] = [{"Code": c, "Message": "injected"} for c in codes]
        return _answer(status, json.dumps(body).encode(), b"application/json")

    async def aclose(self) -> None:
        await self._inner.aclose()

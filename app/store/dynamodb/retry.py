"""Bounded retries with full-jitter backoff for DynamoDB calls; exhaustion is ``StoreUnavailable``.

aiodynamo's own ``throttle_config`` is not used for this (the client is given a single-attempt
config): it does not retry ``RequestLimitExceeded`` or 5xx other than 500/503, and its time limit
is checked before a sleep and another attempt, so the total can overshoot. Here one deadline
bounds every attempt, wait and follow-up request of one store operation, and
``app.store.budget.one_budget`` makes several operations (a keyed request's claim, write and
release) share one deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TypeVar

import httpx
from aiodynamo.errors import (
    AccessDenied,
    ExpiredToken,
    IncompleteSignature,
    InternalDynamoError,
    MissingAuthenticationToken,
    NoCredentialsFound,
    ProvisionedThroughputExceeded,
    RequestLimitExceeded,
    ServiceUnavailable,
    TableNotFound,
    Throttled,
    TransactionCanceled,
    TransactionConflict,
    UnknownError,
    UnrecognizedClient,
    ValidationException,
)

from app.domain.orders import StoreUnavailable
from app.store.budget import deadline
from app.store.dynamodb.config import DynamoDBConfig, RetryPolicy

logger = logging.getLogger("app.store.dynamodb")

T = TypeVar("T")


class Fault(Enum):
    NOT_APPLIED = "not applied"  # throttled, or never connected: the request was not applied
    MAYBE_APPLIED = "maybe applied"  # 5xx, timeout or broken connection: it may have been


def classify(exc: BaseException) -> Fault | None:
    """The kind of transient fault ``exc`` is, or None when retrying cannot help."""
    if isinstance(exc, Throttled | ProvisionedThroughputExceeded | RequestLimitExceeded):
        return Fault.NOT_APPLIED
    if isinstance(exc, httpx.ConnectError | TransactionConflict):
        return Fault.NOT_APPLIED
    if isinstance(exc, ExpiredToken):
        # Refused before it ran. The client has dropped the key; the next attempt fetches a
        # fresh one (container credentials can expire sooner than the client expected).
        return Fault.NOT_APPLIED
    if isinstance(exc, TransactionCanceled) and any(
        reason is not None and reason.code in {"TransactionConflict", "ThrottlingError"}
        for reason in exc.cancellation_reasons
    ):
        return Fault.NOT_APPLIED  # a transaction is all or nothing: this one applied nothing
    if isinstance(exc, InternalDynamoError | ServiceUnavailable | TimeoutError):
        return Fault.MAYBE_APPLIED  # aiodynamo turns every httpx timeout into TimeoutError
    if isinstance(exc, httpx.TransportError):
        return Fault.MAYBE_APPLIED
    if isinstance(exc, UnknownError) and exc.status >= 500:
        return Fault.MAYBE_APPLIED
    return None


# Not ExpiredToken: an expired key is refetched and the request retried (classify); only
# credentials that no refetch can fix make the store unusable.
REFUSED_CREDENTIALS = (
    UnrecognizedClient,
    IncompleteSignature,
    MissingAuthenticationToken,
    NoCredentialsFound,
)


def misconfiguration(exc: BaseException, config: DynamoDBConfig) -> str | None:
    """What is wrong with the store's configuration when ``exc`` says so, else None.

    These errors do not pass with time or retries (a missing table, a table of another key
    schema, refused credentials or permissions): the API answers 503 and logs this line.
    """
    where = f"table {config.table!r} in {config.region}" + (
        f" at {config.endpoint}" if config.endpoint else ""
    )
    if isinstance(exc, TableNotFound):
        return f"{where} does not exist: create it (make dynamodb-table) or fix STORE_URL"
    if isinstance(exc, ValidationException) and "does not match the schema" in str(exc):
        return f"{where} has another key schema than app/store/dynamodb/table.py: fix STORE_URL"
    if isinstance(exc, AccessDenied):
        return f"access to {where} denied: grant the credentials' role the table's permissions"
    if isinstance(exc, REFUSED_CREDENTIALS) or (
        isinstance(exc, UnknownError) and exc.status == 403
    ):
        return (
            f"DynamoDB refused the credentials ({type(exc).__name__}) for {where}: check "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
        )
    return None


class Retrier:
    """Runs the requests of one store operation under one deadline.

    ``maybe_applied`` turns true once an attempt failed in a way that may have reached the table,
    so a later conditional failure can be recognised as the echo of our own earlier write.
    """

    def __init__(self, policy: RetryPolicy, operation: str) -> None:
        self._policy = policy
        self._operation = operation
        self._loop = asyncio.get_running_loop()
        self._started = self._loop.time()
        self._deadline = self._started + policy.budget
        shared = deadline()
        if shared is not None:
            self._deadline = min(self._deadline, shared)
        self.maybe_applied = False

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        last: BaseException | None = None
        for attempt in range(self._policy.max_attempts):
            remaining = self._deadline - self._loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    return await call()
            except Exception as exc:
                fault = classify(exc)
                if fault is None:
                    raise
                last = exc
                self.maybe_applied |= fault is Fault.MAYBE_APPLIED
                logger.info("DynamoDB %s attempt %d: %r", self._operation, attempt + 1, exc)
            pause = self._policy.delay(attempt)
            if self._loop.time() + pause >= self._deadline:
                break
            await asyncio.sleep(pause)
        elapsed = self._loop.time() - self._started
        if last is None:
            logger.warning(
                "DynamoDB %s not attempted: the request's budget is spent", self._operation
            )
        else:
            logger.warning(
                "DynamoDB %s unavailable after %.2f s: %r", self._operation, elapsed, last
            )
        raise StoreUnavailable(retry_after=self._policy.retry_after)

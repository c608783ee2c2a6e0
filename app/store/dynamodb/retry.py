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
from typing import TypeVar

from app.domain.orders import StoreUnavailable
from app.store.budget import deadline
from app.store.dynamodb.config import RetryPolicy
from app.store.dynamodb.errors import Fault, classify

logger = logging.getLogger("app.store.dynamodb")

T = TypeVar("T")


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
        """Attempts until one succeeds or the deadline leaves no room for another: the whole
        budget is used, so a keyed request's 503 comes when its claim's lease ends."""
        last: BaseException | None = None
        attempt = 0
        while (remaining := self._deadline - self._loop.time()) > 0:
            try:
                async with asyncio.timeout(remaining):
                    return await call()
            except Exception as exc:
                fault = classify(exc)
                if fault is None:
                    raise
                last = exc
                self.maybe_applied |= fault is Fault.MAYBE_APPLIED
                attempt += 1
                logger.info("DynamoDB %s attempt %d: %r", self._operation, attempt, exc)
            room = self._deadline - self._loop.time() - self._policy.min_attempt
            if room < 0:
                break
            await asyncio.sleep(min(self._policy.delay(attempt - 1), room))
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

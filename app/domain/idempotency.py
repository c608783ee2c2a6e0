"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header): domain records and errors.

A key is claimed before the operation runs (a short lease marks it in flight) and completed in
the same atomic write as the operation itself, so there is never an order without its record
or a record without its order. A failed attempt releases the key, so it is not poisoned: the
lifecycle is ``app.store.claims``, the records each store's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.orders import DomainError, Order

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """What a key remembers: the request's fingerprint and, once done, the resulting order."""

    key: str
    fingerprint: str
    expires_at: datetime
    result: Order | None = None  # None while the first request is in flight

    @property
    def in_flight(self) -> bool:
        return self.result is None

    def replay(self, fingerprint: str) -> Order:
        """The answer this record holds for a request with ``fingerprint``: the first
        request's order; ``IdempotencyKeyReused`` for another request, ``RequestInFlight``
        while the first has not finished."""
        if self.fingerprint != fingerprint:
            raise IdempotencyKeyReused
        if self.result is None:
            raise RequestInFlight
        return self.result


@dataclass(frozen=True, slots=True)
class Completion:
    """Passed to a store write: complete this claimed key with the write's resulting order."""

    key: str
    fingerprint: str
    expires_at: datetime
    token: str  # the claim's own: only the attempt that holds the claim completes it


def fingerprint(operation: str, **request: object) -> str:
    """A stable digest of what a request asks for (operation, target, validated body)."""
    canonical = json.dumps({"op": operation, **request}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__("Idempotency-Key was already used for a different request")


class RequestInFlight(DomainError):
    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed; retry")


class ClaimLost(Exception):
    """Raised by a store when completing a key that is no longer this request's claim."""

"""A keyed request's claim on its Idempotency-Key: one lifecycle for every store.

The claim, the operation and (when the operation fails) the release share one budget
(``OrderStore.budget``, ``app.store.budget``), which is also the claim's lease. A release that
fails is waited out until the lease is over, so once the request answers (a 503, say) its key is
free: a client that retries gets the replay or a fresh attempt, never a 409 for its own claim.
The operation completes the key in its own atomic write (``Completion``), and only while the
claim holds, so two attempts never both write. The rules of an answer are the domain's
(``IdempotencyRecord.replay``); each store keeps the records (``claim_idempotency``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from app.domain.idempotency import (
    RETENTION,
    ClaimLost,
    Completion,
    IdempotencyRecord,
    RequestInFlight,
)
from app.store.budget import deadline, one_budget
from app.store.protocol import OrderStore

CLAIM_ATTEMPTS = 3  # a key released while being claimed is claimed again, this often at most
LEASE_ROUNDING = 0.002  # seconds: a store may round a lease up to the next millisecond

logger = logging.getLogger("app.store")


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a claim: the key is ours (``completes`` it) or ``held_by`` a record."""

    held_by: IdempotencyRecord | None
    completes: Completion | None


@asynccontextmanager
async def claimed(
    store: OrderStore, owner: str, key: str, fingerprint: str, *, clock: Callable[[], datetime]
) -> AsyncIterator[Claim]:
    """Claim ``key`` for the block; free it again if the block fails (it wrote nothing).

    The claim carries a token of this attempt's own through its completion and its release:
    a retry of the same request has the same fingerprint, so matching on it would let this
    attempt's late release drop the retry's claim.
    """
    token = uuid.uuid4().hex
    with one_budget(store.budget) as lease:
        now = clock()
        held = await _claim(store, owner, key, fingerprint, token, now, now + lease)
        if held is not None:
            yield Claim(held_by=held, completes=None)
            return
        completes = Completion(
            key=key, fingerprint=fingerprint, expires_at=now + RETENTION, token=token
        )
        try:
            yield Claim(None, completes)
        except ClaimLost:
            raise RequestInFlight from None  # another attempt holds the key now
        except BaseException:
            await _release(store, owner, key, token)
            raise


async def _claim(
    store: OrderStore,
    owner: str,
    key: str,
    fingerprint: str,
    token: str,
    now: datetime,
    until: datetime,
) -> IdempotencyRecord | None:
    """The store's claim, tried again while the key changes hands under it (bounded)."""
    for _ in range(CLAIM_ATTEMPTS):
        with contextlib.suppress(ClaimLost):
            return await store.claim_idempotency(
                owner, key, fingerprint, token=token, now=now, lease_until=until
            )
    raise RequestInFlight  # another request keeps taking and freeing the key: retry later


async def _release(store: OrderStore, owner: str, key: str, token: str) -> None:
    """Release the claim or, when the store cannot, wait until its lease is over."""
    try:
        await store.release_idempotency(owner, key, token)
    except Exception as exc:
        logger.warning("Idempotency-Key claim not released (%r): waiting out its lease", exc)
        lease_ends = deadline()
        if lease_ends is not None:
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, lease_ends + LEASE_ROUNDING - loop.time()))

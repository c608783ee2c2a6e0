"""Fake stores for fault and timing scenarios: a real store behind a controllable front."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from app.domain.idempotency import ClaimLost, Completion, IdempotencyRecord
from app.domain.orders import Order, StoreUnavailable
from app.store import OrderStore


class ControlledStore:
    """Delegates to a real store; ``add`` can be made to fail or to wait for a signal."""

    def __init__(self, inner: OrderStore) -> None:
        self.inner = inner
        self.fail_next_adds = 0
        self.hold_adds: asyncio.Event | None = None
        self.add_started = asyncio.Event()
        self.lose_next_claims = 0

    async def claim_idempotency(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        token: str,
        now: datetime,
        lease_until: datetime,
    ) -> IdempotencyRecord | None:
        """The real claim; before it, as told, the key "changes hands" (``ClaimLost``)."""
        if self.lose_next_claims:
            self.lose_next_claims -= 1
            raise ClaimLost
        return await self.inner.claim_idempotency(
            owner, key, fingerprint, token=token, now=now, lease_until=lease_until
        )

    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        self.add_started.set()
        if self.hold_adds is not None:
            await self.hold_adds.wait()
        if self.fail_next_adds:
            self.fail_next_adds -= 1
            raise StoreUnavailable
        await self.inner.add(order, completes=completes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

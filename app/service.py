"""Use cases of the Orders API. Knows the store protocol and the domain, nothing of HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TypeAlias
from uuid import UUID

from uuid6 import uuid7

from app.domain.cursor import decode_cursor, encode_cursor
from app.domain.idempotency import (
    RETENTION,
    ClaimLost,
    Completion,
    IdempotencyKeyReused,
    IdempotencyRecord,
    RequestInFlight,
    fingerprint,
)
from app.domain.orders import (
    ALLOWED_FROM,
    RESULTING_STATUS,
    Action,
    InvalidTransition,
    Order,
    OrderItem,
    OrderNotFound,
    PreconditionFailed,
    StateConflict,
    Status,
)
from app.store.protocol import OrderStore

CLAIM_ATTEMPTS = 3  # a key released while being claimed is claimed again, this often at most


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_order_id() -> UUID:
    return UUID(int=uuid7().int)


IfMatch: TypeAlias = frozenset[int] | None
"""Order versions a conditional request accepts; None accepts any (no If-Match, or ``*``)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The order an operation produced; ``replayed`` when an Idempotency-Key answered it."""

    order: Order
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    orders: list[Order]
    next_cursor: str | None


class OrdersService:
    """Every operation is scoped to ``owner``; another owner's order behaves as a missing one."""

    def __init__(
        self,
        store: OrderStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], UUID] = new_order_id,
    ) -> None:
        self._store = store
        self._clock = clock
        self._new_id = new_id

    async def create(
        self, owner: str, items: Sequence[OrderItem], *, idempotency_key: str | None = None
    ) -> Outcome:
        items = tuple(items)

        async def place(completes: Completion | None) -> Order:
            order = Order(
                id=self._new_id(),
                owner=owner,
                created=self._clock(),
                status=Status.CREATED,
                items=items,
            )
            await self._store.add(order, completes=completes)
            return order

        if idempotency_key is None:
            return Outcome(await place(None))
        digest = fingerprint("create", items=[asdict(i) for i in items])
        return await self._idempotently(owner, idempotency_key, digest, place)

    async def check_store(self) -> None:
        """Readiness: ``StoreUnavailable`` unless the store answers."""
        await self._store.check()

    async def list(
        self,
        owner: str,
        *,
        cancelled: bool | None,
        limit: int,
        cursor: str | None,
        max_bytes: int,
    ) -> Listing:
        """A page of at most ``limit`` orders and ``max_bytes`` of JSON; where the next begins."""
        before = None if cursor is None else decode_cursor(cursor)
        page = await self._store.list(
            owner, cancelled=cancelled, limit=limit, before=before, max_bytes=max_bytes
        )
        resume = page.resume_after or (page.orders[-1].id if page.orders else None)
        next_cursor = encode_cursor(resume) if page.more and resume is not None else None
        return Listing(orders=page.orders, next_cursor=next_cursor)

    async def get(self, owner: str, order_id: UUID) -> Order:
        order = await self._store.get(owner, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def replace(
        self,
        owner: str,
        order_id: UUID,
        items: Sequence[OrderItem],
        *,
        if_match: IfMatch = None,
    ) -> Order:
        return await self._apply(owner, order_id, Action.REPLACE, if_match, items=tuple(items))

    async def pay(
        self,
        owner: str,
        order_id: UUID,
        *,
        if_match: IfMatch = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        async def pay(completes: Completion | None) -> Order:
            return await self._apply(owner, order_id, Action.PAY, if_match, completes=completes)

        if idempotency_key is None:
            return Outcome(await pay(None))
        accepted = None if if_match is None else sorted(if_match)
        digest = fingerprint("pay", order_id=order_id, if_match=accepted)
        return await self._idempotently(owner, idempotency_key, digest, pay)

    async def cancel(self, owner: str, order_id: UUID, *, if_match: IfMatch = None) -> Order:
        return await self._apply(owner, order_id, Action.CANCEL, if_match)

    async def delete(self, owner: str, order_id: UUID, *, if_match: IfMatch = None) -> None:
        expected = await self._expected_version(owner, order_id, if_match)
        try:
            await self._store.delete(owner, order_id, expected_version=expected)
        except StateConflict:
            raise PreconditionFailed(order_id) from None

    async def _apply(
        self,
        owner: str,
        order_id: UUID,
        action: Action,
        if_match: IfMatch,
        *,
        items: tuple[OrderItem, ...] | None = None,
        completes: Completion | None = None,
    ) -> Order:
        expected = await self._expected_version(owner, order_id, if_match)
        try:
            return await self._store.update(
                owner,
                order_id,
                allowed_from=ALLOWED_FROM[action],
                status=RESULTING_STATUS[action],
                items=items,
                expected_version=expected,
                completes=completes,
            )
        except StateConflict as conflict:
            if expected is not None and conflict.current.version != expected:
                raise PreconditionFailed(order_id) from None
            raise InvalidTransition(action, conflict.current.status) from None

    async def _idempotently(
        self,
        owner: str,
        key: str,
        digest: str,
        operation: Callable[[Completion | None], Awaitable[Order]],
    ) -> Outcome:
        """Run ``operation`` once per (owner, key); replay its order to every retry.

        The claim, the operation and a release share the store's one budget, which is also the
        claim's lease: once this request has given up, its claim has lapsed, so a client's
        retry gets the replay or a fresh attempt. Completing the key is conditional on it not
        being completed yet, so two attempts never both write.
        """
        with self._store.one_budget() as lease:
            now = self._clock()
            existing = await self._claim(owner, key, digest, now, now + lease)
            if existing is not None:
                if existing.fingerprint != digest:
                    raise IdempotencyKeyReused
                if existing.result is None:
                    raise RequestInFlight
                return Outcome(existing.result, replayed=True)
            completes = Completion(key=key, fingerprint=digest, expires_at=now + RETENTION)
            try:
                return Outcome(await operation(completes))
            except ClaimLost:
                raise RequestInFlight from None
            except BaseException:
                # Whatever failed wrote nothing: free the key so a retry runs the operation
                # again (with no budget left, the claim's lease is over or about to be).
                with contextlib.suppress(Exception):
                    await self._store.release_idempotency(owner, key, digest)
                raise

    async def _claim(
        self, owner: str, key: str, digest: str, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        """The store's claim, tried again while the key changes hands under it (bounded)."""
        for _ in range(CLAIM_ATTEMPTS):
            with contextlib.suppress(ClaimLost):
                return await self._store.claim_idempotency(
                    owner, key, digest, now=now, lease_until=lease_until
                )
        raise RequestInFlight  # another request keeps taking and freeing the key: retry later

    async def _expected_version(self, owner: str, order_id: UUID, if_match: IfMatch) -> int | None:
        """The version a conditional write must find, from the versions If-Match accepts.

        ``None`` (no If-Match, or ``*``) means any version. With one accepted version the
        store checks it atomically; with several, the current one is read and, when accepted,
        becomes the condition, so a write in between still fails.
        """
        if if_match is None:
            return None
        if len(if_match) == 1:
            return next(iter(if_match))
        current = await self.get(owner, order_id)
        if current.version not in if_match:
            raise PreconditionFailed(order_id)
        return current.version

"""Use cases of the Orders API. Knows the store protocol and the domain, nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias
from uuid import UUID

from uuid6 import uuid7

from app.cursor import decode_cursor, encode_cursor
from app.orders import (
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


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_order_id() -> UUID:
    return UUID(int=uuid7().int)


IfMatch: TypeAlias = frozenset[int] | None
"""Order versions a conditional request accepts; None accepts any (no If-Match, or ``*``)."""


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

    async def create(self, owner: str, items: Sequence[OrderItem]) -> Order:
        order = Order(
            id=self._new_id(),
            owner=owner,
            created=self._clock(),
            status=Status.CREATED,
            items=tuple(items),
        )
        await self._store.add(order)
        return order

    async def list(
        self, owner: str, *, cancelled: bool | None, limit: int, cursor: str | None
    ) -> Listing:
        before = None if cursor is None else decode_cursor(cursor)
        page = await self._store.list(owner, cancelled=cancelled, limit=limit, before=before)
        next_cursor = encode_cursor(page.orders[-1].id) if page.more and page.orders else None
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

    async def pay(self, owner: str, order_id: UUID, *, if_match: IfMatch = None) -> Order:
        return await self._apply(owner, order_id, Action.PAY, if_match)

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
            )
        except StateConflict as conflict:
            if expected is not None and conflict.current.version != expected:
                raise PreconditionFailed(order_id) from None
            raise InvalidTransition(action, conflict.current.status) from None

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

"""Use cases of the Orders API. Knows the store protocol and the domain, nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    StateConflict,
    Status,
)
from app.store.protocol import OrderStore


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_order_id() -> UUID:
    return UUID(int=uuid7().int)


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
        resume = page.resume_after or (page.orders[-1].id if page.orders else None)
        next_cursor = encode_cursor(resume) if page.more and resume is not None else None
        return Listing(orders=page.orders, next_cursor=next_cursor)

    async def get(self, owner: str, order_id: UUID) -> Order:
        order = await self._store.get(owner, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def replace(self, owner: str, order_id: UUID, items: Sequence[OrderItem]) -> Order:
        return await self._apply(owner, order_id, Action.REPLACE, items=tuple(items))

    async def pay(self, owner: str, order_id: UUID) -> Order:
        return await self._apply(owner, order_id, Action.PAY)

    async def cancel(self, owner: str, order_id: UUID) -> Order:
        return await self._apply(owner, order_id, Action.CANCEL)

    async def delete(self, owner: str, order_id: UUID) -> None:
        await self._store.delete(owner, order_id)

    async def _apply(
        self,
        owner: str,
        order_id: UUID,
        action: Action,
        *,
        items: tuple[OrderItem, ...] | None = None,
    ) -> Order:
        try:
            return await self._store.update(
                owner,
                order_id,
                allowed_from=ALLOWED_FROM[action],
                status=RESULTING_STATUS[action],
                items=items,
            )
        except StateConflict as conflict:
            raise InvalidTransition(action, conflict.current.status) from None

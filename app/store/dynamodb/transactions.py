"""Order writes that complete an idempotency key in the same DynamoDB transaction.

There is never an order without its key's record, nor a record without its order: the order's
``Put``/``Update`` and the record's completion are one ``TransactWriteItems``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from aiodynamo.errors import TransactionCanceled
from aiodynamo.utils import py2dy

from app.domain.idempotency import Completion
from app.domain.orders import Order, OrderItem, OrderNotFound, StateConflict, Status
from app.store.codec import dump_items
from app.store.dynamodb.config import RetryPolicy
from app.store.dynamodb.expressions import with_expressions
from app.store.dynamodb.idempotency import IdempotencyRecords, completion, raise_claim_lost
from app.store.dynamodb.items import PK, WRITE_ID, order_key, to_item, to_order
from app.store.dynamodb.retry import Retrier

MAX_TRANSACTION_ROUNDS = 5

Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
GetItem = Callable[[str, UUID], Awaitable[dict[str, Any] | None]]


class CompletingWrites:
    """``add`` and ``update`` of the store, each completing a claimed key atomically."""

    def __init__(
        self,
        table: str,
        policy: RetryPolicy,
        *,
        send_raw: Send,
        get_item: GetItem,
        records: IdempotencyRecords,
    ) -> None:
        self._table = table
        self._policy = policy
        self._send_raw = send_raw
        self._get_item = get_item
        self._records = records

    async def _transact(self, items: Sequence[dict[str, Any]]) -> None:
        await self._send_raw("TransactWriteItems", {"TransactItems": list(items)})

    async def _completed_with(
        self, owner: str, completes: Completion, order_id: UUID
    ) -> Order | None:
        """After a lost answer: the order our own earlier transaction completed the key with."""
        record = await self._records.get(owner, completes.key)
        if record is None or record.result is None or record.result.id != order_id:
            return None
        return record.result

    async def add(self, order: Order, completes: Completion) -> None:
        """Insert the order and complete its key in one transaction."""
        retry = Retrier(self._policy, "add")
        table = self._table
        entry = {"TableName": table, "Item": py2dy(to_item(order, uuid.uuid4().hex))}
        put = {"Put": with_expressions(entry, ConditionExpression=f"attribute_not_exists(#{PK})")}
        transaction = [put, completion(table, order.owner, completes, order)]

        async def write() -> None:
            try:
                await self._transact(transaction)
            except TransactionCanceled as error:
                if retry.maybe_applied and await self._completed_with(
                    order.owner, completes, order.id
                ):
                    return
                raise_claim_lost(error)
                raise RuntimeError(f"Order id {order.id} already exists") from None

        await retry(write)

    async def update(
        self,
        owner: str,
        order_id: UUID,
        allowed_from: Collection[Status],
        status: Status | None,
        items: tuple[OrderItem, ...] | None,
        expected_version: int | None,
        completes: Completion,
    ) -> Order:
        """Update the order and complete its key in one transaction.

        A transaction returns no values, so the order is read first and the write is made
        conditional on the version read: if another write slips in between, read again.
        """
        retry = Retrier(self._policy, "update")
        table = self._table
        for _ in range(MAX_TRANSACTION_ROUNDS):
            item = await retry(partial(self._get_item, owner, order_id))
            if item is None:
                raise OrderNotFound(order_id)
            current = to_order(item)
            stale = expected_version is not None and current.version != expected_version
            if current.status not in allowed_from or stale:
                raise StateConflict(current)
            new = dataclasses.replace(
                current,
                status=current.status if status is None else status,
                items=current.items if items is None else items,
                version=current.version + 1,
            )
            entry = {"TableName": table, "Key": py2dy(order_key(owner, order_id))}
            update = {
                "Update": with_expressions(
                    entry,
                    {
                        "version": new.version,
                        "write_id": uuid.uuid4().hex,
                        "status": new.status.value,
                        "items": dump_items(new.items),
                        "read": current.version,
                    },
                    UpdateExpression=(
                        f"SET #version = :version, #{WRITE_ID} = :write_id, #status = :status,"
                        " #items = :items"
                    ),
                    ConditionExpression="#version = :read",
                )
            }
            try:
                await retry(
                    partial(self._transact, [update, completion(table, owner, completes, new)])
                )
            except TransactionCanceled as error:
                earlier = retry.maybe_applied and await self._completed_with(
                    owner, completes, order_id
                )
                if earlier:
                    return earlier
                raise_claim_lost(error)
                continue  # the order changed since it was read: decide again
            return new
        raise StateConflict(current)

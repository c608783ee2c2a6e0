"""The DynamoDB table's key schema and item layout: defined once, imported by app and infra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: Literal["S", "N", "B"]


# Partition: the owner. Sort: a type prefix + a time-ordered id, so one Query on an owner
# returns that owner's orders newest first and other record types never mix in.
PARTITION_KEY = KeyAttribute("pk", "S")
SORT_KEY = KeyAttribute("sk", "S")
TTL_ATTRIBUTE = "expires_at"
# The only DynamoDB calls the store makes: the Lambda role is granted exactly these, on this table.
# TransactWriteItems (an order and its idempotency record) is authorized per item by these.
DYNAMODB_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)

ORDER_PREFIX = "ORDER#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"


def order_sort_key(order_id: UUID) -> str:
    return f"{ORDER_PREFIX}{order_id}"


KEY_SCHEMA: tuple[KeyAttribute, KeyAttribute] = (PARTITION_KEY, SORT_KEY)  # (HASH, RANGE)


def order_id_from_sort_key(sort_key: str) -> UUID:
    """The order id an order's sort key carries; ``ValueError`` for any other record type."""
    if not sort_key.startswith(ORDER_PREFIX):
        raise ValueError(f"Not an order sort key: {sort_key!r}")
    return UUID(sort_key.removeprefix(ORDER_PREFIX))

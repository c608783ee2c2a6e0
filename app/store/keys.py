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

"""The DynamoDB table's key schema and the calls the store makes: imported by app and infra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: Literal["S", "N", "B"]


# Partition: the owner. Sort: a type prefix + a time-ordered id, so one Query on an owner
# returns that owner's orders newest first and other record types never mix in.
PARTITION_KEY = KeyAttribute("pk", "S")
SORT_KEY = KeyAttribute("sk", "S")
KEY_SCHEMA: tuple[KeyAttribute, KeyAttribute] = (PARTITION_KEY, SORT_KEY)  # (HASH, RANGE)
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

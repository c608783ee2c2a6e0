"""The DynamoDB item layout: sort key prefixes per record type (the key schema: app.contract)."""

from __future__ import annotations

from uuid import UUID

ORDER_PREFIX = "ORDER#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"


def order_sort_key(order_id: UUID) -> str:
    return f"{ORDER_PREFIX}{order_id}"


def order_id_from_sort_key(sort_key: str) -> UUID:
    """The order id an order's sort key carries; ``ValueError`` for any other record type."""
    if not sort_key.startswith(ORDER_PREFIX):
        raise ValueError(f"Not an order sort key: {sort_key!r}")
    return UUID(sort_key.removeprefix(ORDER_PREFIX))

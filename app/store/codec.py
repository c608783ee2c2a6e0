"""An order's items as plain values (lists of dicts), the form both stores persist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.orders import OrderItem, Size


def dump_items(items: Iterable[OrderItem]) -> list[dict[str, Any]]:
    return [{"product": i.product, "size": i.size.value, "quantity": i.quantity} for i in items]


def load_items(plain: Iterable[dict[str, Any]]) -> tuple[OrderItem, ...]:
    """The inverse of ``dump_items``; quantities may come back as ``Decimal`` (DynamoDB)."""
    return tuple(
        OrderItem(product=i["product"], size=Size(i["size"]), quantity=int(i["quantity"]))
        for i in plain
    )

"""The item layout of an order in the DynamoDB table, both ways (plain Python values).

``pk`` = owner and ``sk`` = ``ORDER#<uuid7>`` (``table``), plus ``created`` (ISO 8601),
``status``, ``items`` (a list of maps), ``version`` (a number) and ``write_id`` (a random token
per write, so a retried write can recognise its own earlier success).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from app.contract.table import PARTITION_KEY, SORT_KEY
from app.domain.orders import Order, Status
from app.store.codec import dump_items, load_items
from app.store.dynamodb.table import order_id_from_sort_key, order_sort_key

PK, SK = PARTITION_KEY.name, SORT_KEY.name
WRITE_ID = "write_id"


def to_item(order: Order, write_id: str) -> dict[str, Any]:
    return {
        PK: order.owner,
        SK: order_sort_key(order.id),
        "created": order.created.isoformat(),
        "status": order.status.value,
        "items": dump_items(order.items),
        "version": order.version,
        WRITE_ID: write_id,
    }


def to_order(item: dict[str, Any]) -> Order:
    return Order(
        id=order_id_from_sort_key(item[SK]),
        owner=item[PK],
        created=datetime.fromisoformat(item["created"]),
        status=Status(item["status"]),
        items=load_items(item["items"]),
        version=int(item["version"]),
    )


def order_key(owner: str, order_id: UUID) -> dict[str, Any]:
    return {PK: owner, SK: order_sort_key(order_id)}

"""The SQLite schema and the row layout of an order, both ways."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from app.domain.orders import Order, OrderItem, Status
from app.store.codec import dump_items, load_items

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS orders (
    owner   TEXT    NOT NULL,
    id      TEXT    NOT NULL,  -- canonical UUIDv7: text order is creation order
    created TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    items   TEXT    NOT NULL,  -- JSON array of {product, size, quantity}
    version INTEGER NOT NULL,
    PRIMARY KEY (owner, id)
) WITHOUT ROWID
""",
    """
CREATE TABLE IF NOT EXISTS idempotency (
    owner       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT,           -- JSON order row once done; NULL while in flight
    expires_at  REAL NOT NULL,  -- epoch seconds: a lease while in flight, then 24 h
    token       TEXT,           -- the claiming attempt's own token
    PRIMARY KEY (owner, key)
) WITHOUT ROWID
""",
)
# Files made before claims carried a token get the column (NULL: no claim of theirs matches).
MIGRATIONS = {("idempotency", "token"): "ALTER TABLE idempotency ADD COLUMN token TEXT"}

COLUMNS = "id, owner, created, status, items, version"

CANCELLED_FILTER = {
    None: "",
    True: f" AND status = '{Status.CANCELLED}'",
    False: f" AND status <> '{Status.CANCELLED}'",
}


def path_from_url(url: str) -> str:
    """``sqlite:///var/x.db`` → ``var/x.db`` (relative); ``sqlite:////tmp/x.db`` → ``/tmp/x.db``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise ValueError(f"Expected sqlite:///<path>, got {url!r}")
    path = parts.path[1:]
    if not path:
        raise ValueError(f"No database path in {url!r}")
    return path


def dump_items_json(items: Iterable[OrderItem]) -> str:
    return json.dumps(dump_items(items), separators=(",", ":"), ensure_ascii=False)


def order_row(order: Order) -> tuple[str, str, str, str, str, int]:
    return (
        str(order.id),
        order.owner,
        order.created.isoformat(),
        order.status.value,
        dump_items_json(order.items),
        order.version,
    )


def row_to_order(row: Any) -> Order:
    items = load_items(json.loads(row[4]))
    return Order(
        id=UUID(row[0]),
        owner=row[1],
        created=datetime.fromisoformat(row[2]),
        status=Status(row[3]),
        items=items,
        version=row[5],
    )

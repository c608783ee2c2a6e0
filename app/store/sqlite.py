"""The order store on an embedded SQLite file, through aiosqlite. All SQL lives here."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import aiosqlite

from app.orders import Order, OrderItem, OrderNotFound, Page, Size, StateConflict, Status

BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    owner   TEXT    NOT NULL,
    id      TEXT    NOT NULL,  -- canonical UUIDv7: text order is creation order
    created TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    items   TEXT    NOT NULL,  -- JSON array of {product, size, quantity}
    version INTEGER NOT NULL,
    PRIMARY KEY (owner, id)
) WITHOUT ROWID
"""

COLUMNS = "id, owner, created, status, items, version"

_CANCELLED_FILTER = {
    None: "",
    True: f" AND status = '{Status.CANCELLED}'",
    False: f" AND status <> '{Status.CANCELLED}'",
}


def _dump_items(items: Iterable[OrderItem]) -> str:
    return json.dumps(
        [{"product": i.product, "size": i.size.value, "quantity": i.quantity} for i in items],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _row_to_order(row: Any) -> Order:
    items = tuple(
        OrderItem(product=i["product"], size=Size(i["size"]), quantity=i["quantity"])
        for i in json.loads(row[4])
    )
    return Order(
        id=UUID(row[0]),
        owner=row[1],
        created=datetime.fromisoformat(row[2]),
        status=Status(row[3]),
        items=items,
        version=row[5],
    )


def path_from_url(url: str) -> str:
    """``sqlite:///var/x.db`` → ``var/x.db`` (relative); ``sqlite:////tmp/x.db`` → ``/tmp/x.db``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise ValueError(f"Expected sqlite:///<path>, got {url!r}")
    path = parts.path[1:]
    if not path:
        raise ValueError(f"No database path in {url!r}")
    return path


class SQLiteStore:
    """One autocommit connection per process; every write is a single atomic statement.

    WAL lets readers run beside the writer; the busy timeout makes writers from several
    processes (uvicorn workers) queue instead of failing with "database is locked".
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(path_from_url(url))

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("SQLiteStore used before open()")
        return self._conn

    async def open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(
            self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute(SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def add(self, order: Order) -> None:
        await self.conn.execute(
            f"INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                str(order.id),
                order.owner,
                order.created.isoformat(),
                order.status.value,
                _dump_items(order.items),
                order.version,
            ),
        )

    async def get(self, owner: str, order_id: UUID) -> Order | None:
        async with self.conn.execute(
            f"SELECT {COLUMNS} FROM orders WHERE owner = ? AND id = ?",
            (owner, str(order_id)),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _row_to_order(row)

    async def list(
        self, owner: str, *, cancelled: bool | None, limit: int, before: UUID | None
    ) -> Page:
        sql = f"SELECT {COLUMNS} FROM orders WHERE owner = ?"
        params: list[object] = [owner]
        if before is not None:
            sql += " AND id < ?"
            params.append(str(before))
        sql += _CANCELLED_FILTER[cancelled] + " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        async with self.conn.execute(sql, params) as cur:
            rows = list(await cur.fetchall())
        return Page(orders=[_row_to_order(r) for r in rows[:limit]], more=len(rows) > limit)

    async def update(
        self,
        owner: str,
        order_id: UUID,
        *,
        allowed_from: Collection[Status],
        status: Status | None = None,
        items: tuple[OrderItem, ...] | None = None,
        expected_version: int | None = None,
    ) -> Order:
        allowed = sorted(s.value for s in allowed_from)
        sql = (
            "UPDATE orders SET status = coalesce(?, status), items = coalesce(?, items),"
            " version = version + 1 WHERE owner = ? AND id = ?"
            f" AND status IN ({', '.join('?' * len(allowed))})"
        )
        params: list[object] = [
            None if status is None else status.value,
            None if items is None else _dump_items(items),
            owner,
            str(order_id),
            *allowed,
        ]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        async with self.conn.execute(f"{sql} RETURNING {COLUMNS}", params) as cur:
            row = await cur.fetchone()
        if row is not None:
            return _row_to_order(row)
        current = await self.get(owner, order_id)
        if current is None:
            raise OrderNotFound(order_id)
        raise StateConflict(current)

    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        sql = "DELETE FROM orders WHERE owner = ? AND id = ?"
        params: list[object] = [owner, str(order_id)]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        async with self.conn.execute(f"{sql} RETURNING id", params) as cur:
            row = await cur.fetchone()
        if row is not None:
            return
        current = await self.get(owner, order_id)
        if current is None:
            raise OrderNotFound(order_id)
        raise StateConflict(current)

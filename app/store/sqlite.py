"""The order store on an embedded SQLite file, through aiosqlite. All SQL lives here."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import aiosqlite

from app.domain.idempotency import LEASE, ClaimLost, Completion, IdempotencyRecord
from app.domain.orders import (
    Order,
    OrderItem,
    OrderNotFound,
    Page,
    StateConflict,
    Status,
    StoreUnavailable,
)
from app.store.codec import dump_items, load_items
from app.store.paging import PageFiller

BUSY_TIMEOUT_MS = 10_000

logger = logging.getLogger("app.store.sqlite")

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
    PRIMARY KEY (owner, key)
) WITHOUT ROWID
""",
)

COLUMNS = "id, owner, created, status, items, version"

_CANCELLED_FILTER = {
    None: "",
    True: f" AND status = '{Status.CANCELLED}'",
    False: f" AND status <> '{Status.CANCELLED}'",
}


def _dump_items(items: Iterable[OrderItem]) -> str:
    return json.dumps(dump_items(items), separators=(",", ":"), ensure_ascii=False)


def _order_row(order: Order) -> tuple[str, str, str, str, str, int]:
    return (
        str(order.id),
        order.owner,
        order.created.isoformat(),
        order.status.value,
        _dump_items(order.items),
        order.version,
    )


def _row_to_order(row: Any) -> Order:
    items = load_items(json.loads(row[4]))
    return Order(
        id=UUID(row[0]),
        owner=row[1],
        created=datetime.fromisoformat(row[2]),
        status=Status(row[3]),
        items=items,
        version=row[5],
    )


# aiosqlite's worker thread is no daemon (a connection is always closed on its own thread), so
# one left open keeps the process alive after its main thread ended: a script that imported the
# Lambda handler, say. Connections still open then are closed, after the work queued on them.
_still_open: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
_watching = threading.Lock()


def _close_when_the_main_thread_ends(conn: aiosqlite.Connection) -> None:
    _still_open.add(conn)
    if _watching.acquire(blocking=False):  # one watcher per process, started once

        def watch() -> None:
            threading.main_thread().join()
            for left_open in list(_still_open):
                left_open.stop()

        threading.Thread(target=watch, name="sqlite-close-at-exit", daemon=True).start()


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

    One operation at a time uses the connection, and each statement runs to completion in
    a single call to the connection's thread. A statement left open across an ``await``
    would hold a transaction that another request's statement then joins: a write joining
    a read snapshot cannot wait for another process's writer (SQLite answers "database is
    locked" at once, without the busy timeout), and a read joining an open write
    transaction would see data that may yet be rolled back.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

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
        try:
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute_fetchall("PRAGMA journal_mode = WAL")  # first read of the file
            await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
            for statement in SCHEMA:
                await conn.execute_fetchall(statement)
        except BaseException:
            # Not a database, not writable...: release the connection and its thread, or the
            # failed startup could never exit.
            await conn.close()
            raise
        self._conn = conn
        _close_when_the_main_thread_ends(conn)

    async def close(self) -> None:
        if self._conn is not None:
            async with self._lock:
                await self._conn.close()
            _still_open.discard(self._conn)
            self._conn = None

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        """Run one statement to its end, in one call; the caller holds ``_lock``."""
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        async with self._writing(order.owner, completes) as complete:
            await self._rows(
                f"INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", _order_row(order)
            )
            await complete(order)

    async def get(self, owner: str, order_id: UUID) -> Order | None:
        async with self._lock:
            rows = await self._rows(
                f"SELECT {COLUMNS} FROM orders WHERE owner = ? AND id = ?",
                (owner, str(order_id)),
            )
        return _row_to_order(rows[0]) if rows else None

    async def list(
        self,
        owner: str,
        *,
        cancelled: bool | None,
        limit: int,
        before: UUID | None,
        max_bytes: int | None = None,
    ) -> Page:
        sql = f"SELECT {COLUMNS} FROM orders WHERE owner = ?"
        params: list[object] = [owner]
        if before is not None:
            sql += " AND id < ?"
            params.append(str(before))
        sql += _CANCELLED_FILTER[cancelled] + " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        async with self._lock:
            rows = await self._rows(sql, params)
        page = PageFiller(limit, max_bytes)
        for row in rows:
            if not page.take(_row_to_order(row)):
                return Page(orders=page.orders, more=True)
        return Page(orders=page.orders, more=False)

    async def update(
        self,
        owner: str,
        order_id: UUID,
        *,
        allowed_from: Collection[Status],
        status: Status | None = None,
        items: tuple[OrderItem, ...] | None = None,
        expected_version: int | None = None,
        completes: Completion | None = None,
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
        async with self._writing(owner, completes) as complete:
            rows = await self._rows(f"{sql} RETURNING {COLUMNS}", params)
            if rows:
                updated = _row_to_order(rows[0])
                await complete(updated)
                return updated
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
        async with self._lock:
            deleted = await self._rows(f"{sql} RETURNING id", params)
        if deleted:
            return
        current = await self.get(owner, order_id)
        if current is None:
            raise OrderNotFound(order_id)
        raise StateConflict(current)

    async def claim_idempotency(
        self, owner: str, key: str, fingerprint: str, *, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        claim = (
            "INSERT INTO idempotency (owner, key, fingerprint, result, expires_at)"
            " VALUES (?, ?, ?, NULL, ?) ON CONFLICT (owner, key) DO UPDATE SET"
            " fingerprint = excluded.fingerprint, result = NULL, expires_at = excluded.expires_at"
            " WHERE idempotency.expires_at <= ? RETURNING key"
        )
        params = (owner, key, fingerprint, lease_until.timestamp(), now.timestamp())
        async with self._lock:
            if await self._rows(claim, params):
                return None
            rows = await self._rows(
                "SELECT fingerprint, result, expires_at FROM idempotency"
                " WHERE owner = ? AND key = ?",
                (owner, key),
            )
        if not rows:  # released (by another process) in between
            raise ClaimLost
        row = rows[0]
        return IdempotencyRecord(
            key=key,
            fingerprint=row[0],
            result=None if row[1] is None else _row_to_order(json.loads(row[1])),
            expires_at=datetime.fromtimestamp(row[2], UTC),
        )

    async def check(self) -> None:
        try:
            async with self._lock:
                await self._rows("SELECT 1 FROM orders LIMIT 0")
        except (sqlite3.Error, ValueError, RuntimeError) as exc:  # not open, or closed
            logger.error("SQLite store unusable: %r", exc)
            raise StoreUnavailable from exc

    def one_budget(self) -> AbstractContextManager[timedelta]:
        # A local file has no unreachable state to give up on: a claim outlives its request
        # only when the process dies mid-request, and then holds the key for LEASE.
        return nullcontext(LEASE)

    async def release_idempotency(self, owner: str, key: str, fingerprint: str) -> None:
        async with self._lock:
            await self._rows(
                "DELETE FROM idempotency WHERE owner = ? AND key = ? AND fingerprint = ?"
                " AND result IS NULL",
                (owner, key, fingerprint),
            )

    @asynccontextmanager
    async def _writing(
        self, owner: str, completes: Completion | None
    ) -> AsyncIterator[Callable[[Order], Awaitable[None]]]:
        """A write, alone or, with ``completes``, in one transaction with the key's record."""

        async def complete(result: Order) -> None:
            if completes is None:
                return
            completed = await self._rows(
                "UPDATE idempotency SET result = ?, expires_at = ? WHERE owner = ? AND key = ?"
                " AND fingerprint = ? AND result IS NULL RETURNING key",
                (
                    json.dumps(_order_row(result)),
                    completes.expires_at.timestamp(),
                    owner,
                    completes.key,
                    completes.fingerprint,
                ),
            )
            if not completed:
                raise ClaimLost

        async with self._lock:
            if completes is None:
                yield complete
                return
            await self._rows("BEGIN IMMEDIATE")
            try:
                yield complete
            except BaseException:
                await self._rows("ROLLBACK")
                raise
            await self._rows("COMMIT")

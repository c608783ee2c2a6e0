"""The SQLite store: one autocommit connection per process, every write one atomic statement
or one ``BEGIN IMMEDIATE`` transaction, every fault of the file a 503 (``faults``)."""

from __future__ import annotations

import functools
import json
import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from app.domain.idempotency import ClaimLost, Completion, IdempotencyRecord
from app.domain.orders import (
    Order,
    OrderItem,
    OrderNotFound,
    Page,
    StateConflict,
    Status,
    StoreUnavailable,
)
from app.store.budget import READINESS_BUDGET, one_budget
from app.store.paging import PageFiller
from app.store.sqlite.connection import Connection
from app.store.sqlite.faults import SQLITE_CORRUPT, SQLITE_FULL, Fault, classify, fault_of
from app.store.sqlite.rows import (
    CANCELLED_FILTER,
    COLUMNS,
    dump_items_json,
    order_row,
    path_from_url,
    row_to_order,
)

# How long a statement waits for another connection's write lock; also a keyed request's budget
# (claim, write and release), and so the lease of its claim.
BUSY_TIMEOUT = 10.0
# A write needs at most a few hundred KiB (WAL frames of a 64 KiB order and its key's record):
# with less free space on the file's filesystem the store is not ready.
MIN_FREE_BYTES = 1 << 20

logger = logging.getLogger("app.store.sqlite")

P = ParamSpec("P")
T = TypeVar("T")


def _faults_are_unavailable(
    method: Callable[Concatenate[SQLiteStore, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[SQLiteStore, P], Coroutine[Any, Any, T]]:
    """A fault of the file (locked, read-only, full, corrupt...) is a 503 and one log line."""

    @functools.wraps(method)
    async def translated(store: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(store, *args, **kwargs)
        except sqlite3.Error as exc:
            fault = store.fault(exc)
            if fault is None:
                raise
            store.report(fault)
            raise StoreUnavailable(retry_after=fault.retry_after) from exc

    return translated


class SQLiteStore:
    """Every write is a single atomic statement, or one transaction with a key's completion.

    WAL lets readers run beside the writer; the busy timeout makes writers from several
    processes (uvicorn workers) queue instead of failing with "database is locked". The
    connection's discipline (one operation at a time, bounded waits) is ``connection``'s.
    """

    def __init__(self, path: str, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._db = Connection(path, busy_timeout)
        self._corrupt: Fault | None = None  # once seen, until the file is replaced

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(path_from_url(url))

    async def open(self) -> None:
        await self._db.open()
        await self._check_pages()

    async def _check_pages(self) -> None:
        """Damaged pages (a bad copy, a failing disk) make the store not ready from the start,
        not only once a request reads them."""
        try:
            problems = [row[0] for row in await self._db.rows("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            said = f"quick_check: {'; '.join(problems[:3])}"
            self._corrupt = fault_of(SQLITE_CORRUPT, said, self._path, self._busy_timeout)
            if self._corrupt is not None:
                self.report(self._corrupt)

    async def close(self) -> None:
        await self._db.close()

    def fault(self, exc: sqlite3.Error) -> Fault | None:
        """What ``exc`` says about the store (None: a bug); a corrupt file is remembered."""
        fault = classify(exc, self._path, self._busy_timeout)
        if fault is not None and fault.corrupt:
            self._corrupt = fault
        return fault

    @staticmethod
    def report(fault: Fault) -> None:
        if fault.retry_after > 1:
            logger.error("SQLite store unusable: %s", fault.problem)
        else:
            logger.warning("SQLite store unavailable: %s", fault.problem)

    @_faults_are_unavailable
    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        async with self._writing(order.owner, completes) as complete:
            await self._db.rows(
                f"INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", order_row(order)
            )
            await complete(order)

    @_faults_are_unavailable
    async def get(self, owner: str, order_id: UUID) -> Order | None:
        async with self._db.locked():
            rows = await self._db.rows(
                f"SELECT {COLUMNS} FROM orders WHERE owner = ? AND id = ?",
                (owner, str(order_id)),
            )
        return row_to_order(rows[0]) if rows else None

    @_faults_are_unavailable
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
        sql += CANCELLED_FILTER[cancelled] + " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        async with self._db.locked():
            rows = await self._db.rows(sql, params)
        page = PageFiller(limit, max_bytes)
        for row in rows:
            if not page.take(row_to_order(row)):
                return Page(orders=page.orders, more=True)
        return Page(orders=page.orders, more=False)

    @_faults_are_unavailable
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
            None if items is None else dump_items_json(items),
            owner,
            str(order_id),
            *allowed,
        ]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        async with self._writing(owner, completes) as complete:
            rows = await self._db.rows(f"{sql} RETURNING {COLUMNS}", params)
            if rows:
                updated = row_to_order(rows[0])
                await complete(updated)
                return updated
        raise await self._why_not(owner, order_id)

    @_faults_are_unavailable
    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        sql = "DELETE FROM orders WHERE owner = ? AND id = ?"
        params: list[object] = [owner, str(order_id)]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        async with self._db.locked():
            deleted = await self._db.rows(f"{sql} RETURNING id", params)
        if deleted:
            return
        raise await self._why_not(owner, order_id)

    async def _why_not(self, owner: str, order_id: UUID) -> Exception:
        """Why a conditional write changed nothing: the order is missing, or in another state
        (ids are never reused, so reading after the write cannot mistake one for the other)."""
        current = await self.get(owner, order_id)
        return OrderNotFound(order_id) if current is None else StateConflict(current)

    @_faults_are_unavailable
    async def claim_idempotency(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        token: str,
        now: datetime,
        lease_until: datetime,
    ) -> IdempotencyRecord | None:
        claim = (
            "INSERT INTO idempotency (owner, key, fingerprint, result, expires_at, token)"
            " VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (owner, key) DO UPDATE SET"
            " fingerprint = excluded.fingerprint, result = NULL, expires_at = excluded.expires_at,"
            " token = excluded.token WHERE idempotency.expires_at <= ? RETURNING key"
        )
        params = (owner, key, fingerprint, lease_until.timestamp(), token, now.timestamp())
        async with self._db.locked():
            if await self._db.rows(claim, params):
                return None
            rows = await self._db.rows(
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
            result=None if row[1] is None else row_to_order(json.loads(row[1])),
            expires_at=datetime.fromtimestamp(row[2], UTC),
        )

    async def release_idempotency(self, owner: str, key: str, token: str) -> None:
        async with self._db.locked():
            await self._db.rows(
                "DELETE FROM idempotency WHERE owner = ? AND key = ? AND token = ?"
                " AND result IS NULL",
                (owner, key, token),
            )

    @property
    def budget(self) -> float:
        return self._busy_timeout

    @_faults_are_unavailable
    async def check(self) -> None:
        """Ready when the store can serve reads and writes: open, its pages sound, the write
        lock free within a second, the file writable (a write rolled back) and space left."""
        if not self._db.is_open:
            raise StoreUnavailable
        if self._corrupt is not None:
            self.report(self._corrupt)
            raise StoreUnavailable(retry_after=self._corrupt.retry_after)
        with one_budget(READINESS_BUDGET):
            async with self._db.locked():
                await self._db.rows("SELECT 1 FROM orders LIMIT 0")
                await self._db.rows("BEGIN IMMEDIATE")
                try:
                    version = (await self._db.rows("PRAGMA user_version"))[0][0]
                    await self._db.rows(f"PRAGMA user_version = {int(version)}")  # page 1 written
                finally:
                    await self._db.rollback()
        if self._path != ":memory:":
            free = shutil.disk_usage(Path(self._path).parent).free
            if free < MIN_FREE_BYTES:
                said = f"{free} bytes free, less than {MIN_FREE_BYTES}"
                full = fault_of(SQLITE_FULL, said, self._path, self._busy_timeout)
                assert full is not None  # noqa: S101 - SQLITE_FULL is a fault
                self.report(full)
                raise StoreUnavailable(retry_after=full.retry_after)

    @asynccontextmanager
    async def _writing(
        self, owner: str, completes: Completion | None
    ) -> AsyncIterator[Callable[[Order], Awaitable[None]]]:
        """A write, alone or, with ``completes``, in one transaction with the key's record."""

        async def complete(result: Order) -> None:
            if completes is None:
                return
            completed = await self._db.rows(
                "UPDATE idempotency SET result = ?, expires_at = ? WHERE owner = ? AND key = ?"
                " AND token = ? AND result IS NULL RETURNING key",
                (
                    json.dumps(order_row(result)),
                    completes.expires_at.timestamp(),
                    owner,
                    completes.key,
                    completes.token,
                ),
            )
            if not completed:
                raise ClaimLost

        async with self._db.locked():
            if completes is None:
                yield complete
                return
            async with self._db.transaction():
                yield complete

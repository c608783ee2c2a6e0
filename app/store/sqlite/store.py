"""The SQLite store: one autocommit connection per process, every write one atomic statement
or one ``BEGIN IMMEDIATE`` transaction, every fault of the file a 503 (``faults``)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import shutil
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Iterable
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

import aiosqlite

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
from app.store.budget import READINESS_BUDGET, deadline, one_budget
from app.store.paging import PageFiller
from app.store.sqlite.faults import SQLITE_CORRUPT, SQLITE_FULL, Fault, classify, fault_of
from app.store.sqlite.rows import (
    CANCELLED_FILTER,
    COLUMNS,
    SCHEMA,
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

    def __init__(self, path: str, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._busy_ms = 0  # the connection's busy timeout now
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._corrupt: Fault | None = None  # once seen, until the file is replaced

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
        conn = await aiosqlite.connect(self._path, isolation_level=None, timeout=self._busy_timeout)
        try:
            self._busy_ms = round(self._busy_timeout * 1000)
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {self._busy_ms}")
            await conn.execute_fetchall("PRAGMA journal_mode = WAL")  # first read of the file
            await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
            for statement in SCHEMA:
                await conn.execute_fetchall(statement)
            await self._check_pages(conn)
        except BaseException:
            # Not a database, not writable...: release the connection and its thread, or the
            # failed startup could never exit.
            await conn.close()
            raise
        self._conn = conn
        _close_when_the_main_thread_ends(conn)

    async def _check_pages(self, conn: aiosqlite.Connection) -> None:
        """Damaged pages (a bad copy, a failing disk) make the store not ready from the start,
        not only once a request reads them."""
        try:
            problems = [row[0] for row in await conn.execute_fetchall("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            said = f"quick_check: {'; '.join(problems[:3])}"
            self._corrupt = fault_of(SQLITE_CORRUPT, said, self._path, self._busy_timeout)
            if self._corrupt is not None:
                self.report(self._corrupt)

    async def close(self) -> None:
        if self._conn is not None:
            async with self._lock:
                await self._conn.close()
            _still_open.discard(self._conn)
            self._conn = None

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

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """The connection, for one operation; waited for no longer than the current budget."""
        ends = deadline()
        if ends is None:
            async with self._lock:
                yield
            return
        try:
            async with asyncio.timeout_at(ends):
                await self._lock.acquire()
        except TimeoutError:
            raise self._budget_spent() from None
        try:
            yield
        finally:
            self._lock.release()

    @staticmethod
    def _budget_spent() -> StoreUnavailable:
        logger.warning("SQLite store unavailable: the request's budget is spent")
        return StoreUnavailable(retry_after=1)

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        """Run one statement to its end, in one call; the caller holds the connection.

        Inside ``one_budget``, the statement waits for the write lock only until the deadline.
        """
        wait = self._busy_timeout
        ends = deadline()
        if ends is not None:
            wait = min(wait, ends - asyncio.get_running_loop().time())
            if wait <= 0:
                raise self._budget_spent()
        wait_ms = max(1, round(wait * 1000))
        if abs(wait_ms - self._busy_ms) > 50:  # close enough: a pragma costs a thread hop
            await self.conn.execute_fetchall(f"PRAGMA busy_timeout = {wait_ms}")
            self._busy_ms = wait_ms
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    @_faults_are_unavailable
    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        async with self._writing(order.owner, completes) as complete:
            await self._rows(
                f"INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", order_row(order)
            )
            await complete(order)

    @_faults_are_unavailable
    async def get(self, owner: str, order_id: UUID) -> Order | None:
        async with self._locked():
            rows = await self._rows(
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
        async with self._locked():
            rows = await self._rows(sql, params)
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
            rows = await self._rows(f"{sql} RETURNING {COLUMNS}", params)
            if rows:
                updated = row_to_order(rows[0])
                await complete(updated)
                return updated
        current = await self.get(owner, order_id)
        if current is None:
            raise OrderNotFound(order_id)
        raise StateConflict(current)

    @_faults_are_unavailable
    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        sql = "DELETE FROM orders WHERE owner = ? AND id = ?"
        params: list[object] = [owner, str(order_id)]
        if expected_version is not None:
            sql += " AND version = ?"
            params.append(expected_version)
        async with self._locked():
            deleted = await self._rows(f"{sql} RETURNING id", params)
        if deleted:
            return
        current = await self.get(owner, order_id)
        if current is None:
            raise OrderNotFound(order_id)
        raise StateConflict(current)

    @_faults_are_unavailable
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
        async with self._locked():
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
            result=None if row[1] is None else row_to_order(json.loads(row[1])),
            expires_at=datetime.fromtimestamp(row[2], UTC),
        )

    async def release_idempotency(self, owner: str, key: str, fingerprint: str) -> None:
        try:
            async with self._locked():
                await self._rows(
                    "DELETE FROM idempotency WHERE owner = ? AND key = ? AND fingerprint = ?"
                    " AND result IS NULL",
                    (owner, key, fingerprint),
                )
        except (sqlite3.Error, StoreUnavailable) as exc:
            # The request already logged its fault; its claim lapses with the budget (the lease).
            logger.warning("SQLite store: claim of an Idempotency-Key not released: %r", exc)

    def one_budget(self) -> AbstractContextManager[timedelta]:
        return one_budget(self._busy_timeout)

    @_faults_are_unavailable
    async def check(self) -> None:
        """Ready when the store can serve reads and writes: open, its pages sound, the write
        lock free within a second, the file writable (a write rolled back) and space left."""
        if self._conn is None:
            raise StoreUnavailable
        if self._corrupt is not None:
            self.report(self._corrupt)
            raise StoreUnavailable(retry_after=self._corrupt.retry_after)
        with one_budget(READINESS_BUDGET):
            async with self._locked():
                await self._rows("SELECT 1 FROM orders LIMIT 0")
                await self._rows("BEGIN IMMEDIATE")
                try:
                    version = (await self._rows("PRAGMA user_version"))[0][0]
                    await self._rows(f"PRAGMA user_version = {int(version)}")  # page 1 written
                finally:
                    await self._rollback()
        if self._path != ":memory:":
            free = shutil.disk_usage(Path(self._path).parent).free
            if free < MIN_FREE_BYTES:
                said = f"{free} bytes free, less than {MIN_FREE_BYTES}"
                full = fault_of(SQLITE_FULL, said, self._path, self._busy_timeout)
                assert full is not None  # noqa: S101 - SQLITE_FULL is a fault
                self.report(full)
                raise StoreUnavailable(retry_after=full.retry_after)

    async def _rollback(self) -> None:
        """End the open transaction, whatever the budget left (a failed statement may already
        have ended it)."""
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                await self.conn.execute_fetchall("ROLLBACK")

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
                    json.dumps(order_row(result)),
                    completes.expires_at.timestamp(),
                    owner,
                    completes.key,
                    completes.fingerprint,
                ),
            )
            if not completed:
                raise ClaimLost

        async with self._locked():
            if completes is None:
                yield complete
                return
            await self._rows("BEGIN IMMEDIATE")
            try:
                yield complete
                await self._rows("COMMIT")
            except BaseException:
                await self._rollback()
                raise

"""The SQLite store's one connection: used by one operation at a time, each statement run to
its end in one call to aiosqlite's thread, and waiting for another process's write lock no
longer than the busy timeout or the current budget (``app.store.budget``)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiosqlite

from app.domain.orders import StoreUnavailable
from app.store.budget import deadline
from app.store.sqlite.rows import MIGRATIONS, SCHEMA

logger = logging.getLogger("app.store.sqlite")

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


class Connection:
    """One autocommit connection per store, and the lock that gives it to one operation.

    A statement left open across an ``await`` would hold a transaction that another request's
    statement then joins: a write joining a read snapshot cannot wait for another process's
    writer (SQLite answers "database is locked" at once, without the busy timeout), and a read
    joining an open write transaction would see data that may yet be rolled back.
    """

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._busy_ms = 0  # the connection's busy timeout now
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("SQLiteStore used before open()")
        return self._conn

    async def open(self) -> None:
        """Connect in WAL mode and create the schema if needed."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        try:
            self._busy_ms = round(self.busy_timeout * 1000)
            await conn.execute_fetchall(f"PRAGMA busy_timeout = {self._busy_ms}")
            await conn.execute_fetchall("PRAGMA journal_mode = WAL")  # first read of the file
            await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
            for statement in SCHEMA:
                await conn.execute_fetchall(statement)
            await _migrate(conn)
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

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
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
            raise budget_spent() from None
        try:
            yield
        finally:
            self._lock.release()

    async def rows(self, sql: str, params: Iterable[object] = ()) -> list[Any]:
        """Run one statement to its end, in one call; the caller holds the connection.

        Inside ``one_budget``, the statement waits for the write lock only until the deadline.
        """
        wait = self.busy_timeout
        ends = deadline()
        if ends is not None:
            wait = min(wait, ends - asyncio.get_running_loop().time())
            if wait <= 0:
                raise budget_spent()
        wait_ms = max(1, round(wait * 1000))
        if abs(wait_ms - self._busy_ms) > 50:  # close enough: a pragma costs a thread hop
            await self.conn.execute_fetchall(f"PRAGMA busy_timeout = {wait_ms}")
            self._busy_ms = wait_ms
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def rollback(self) -> None:
        """End the open transaction, whatever the budget left (a failed statement may already
        have ended it)."""
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                await self.conn.execute_fetchall("ROLLBACK")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if anything in it (COMMIT too) fails;
        the caller holds the connection."""
        await self.rows("BEGIN IMMEDIATE")
        try:
            yield
            await self.rows("COMMIT")
        except BaseException:
            await self.rollback()
            raise


def budget_spent() -> StoreUnavailable:
    logger.warning("SQLite store unavailable: the request's budget is spent")
    return StoreUnavailable(retry_after=1)


async def _migrate(conn: aiosqlite.Connection) -> None:
    """Add the columns a file made by an earlier version lacks (another process may race us)."""
    for (table, column), statement in MIGRATIONS.items():
        columns = {row[1] for row in await conn.execute_fetchall(f"PRAGMA table_info({table})")}
        if column in columns:
            continue
        try:
            await conn.execute_fetchall(statement)
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise

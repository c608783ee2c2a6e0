"""What a SQLite error says about the store: a wait, a file an operator must fix, or a bug.

A store fault is answered 503 with ``Retry-After`` (``StoreUnavailable``) and one log line that
names the cause and the fix; an error this module does not know (a constraint, an SQL error) is
a bug and stays one. Codes: https://www.sqlite.org/rescode.html
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# Seconds a client is told to wait when an operator must act first.
OPERATOR_RETRY_AFTER = 30

SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY = 5, 6, 7, 8
SQLITE_INTERRUPT, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL = 9, 10, 11, 13
SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_SCHEMA, SQLITE_PERM = 14, 15, 17, 3
SQLITE_AUTH, SQLITE_NOTADB = 23, 26

CORRUPTION = frozenset({SQLITE_CORRUPT, SQLITE_NOTADB})


@dataclass(frozen=True, slots=True)
class Fault:
    """Why the store cannot serve a request now, and what the client and the operator do."""

    retry_after: int
    problem: str
    corrupt: bool = False


def classify(exc: sqlite3.Error, path: str, busy_timeout: float) -> Fault | None:
    """The store fault ``exc`` is, for the database file at ``path``; None for a bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        # Raised by the sqlite3 module itself: on a closed connection (shutting down), or a bug.
        closed = isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc)
        return Fault(1, f"{path} is closed ({exc}): the app is stopping") if closed else None
    return fault_of(code, str(exc), path, busy_timeout)


def fault_of(code: int, message: str, path: str, busy_timeout: float) -> Fault | None:
    """The store fault of SQLite's result ``code`` (extended or primary); None for a bug."""
    primary = code & 0xFF
    said = f"({message})"
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return Fault(
            1,
            f"another connection held the write lock of {path} longer than {busy_timeout:g} s "
            f"{said}: find the process holding it (fuser {path})",
        )
    if primary in (SQLITE_NOMEM, SQLITE_INTERRUPT, SQLITE_PROTOCOL, SQLITE_SCHEMA):
        return Fault(1, f"{path} did not answer {said}: transient, retried by the client")
    if primary in (SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH, SQLITE_CANTOPEN):
        return Fault(
            OPERATOR_RETRY_AFTER,
            f"{path} cannot be written {said}: make the file, its directory and its -wal and "
            "-shm files writable by this process, then restart it",
        )
    if primary == SQLITE_FULL:
        return Fault(
            OPERATOR_RETRY_AFTER,
            f"no space left for {path} {said}: free space on its filesystem",
        )
    if primary in CORRUPTION:
        return Fault(
            OPERATOR_RETRY_AFTER,
            f"{path} is corrupt {said}: stop the app, then restore the file from a backup or "
            f"rebuild it (sqlite3 {path} .recover)",
            corrupt=True,
        )
    if primary == SQLITE_IOERR:
        return Fault(
            OPERATOR_RETRY_AFTER,
            f"I/O error on {path} {said}: check its disk and filesystem (dmesg), and the "
            "process's file size limit (ulimit -f)",
        )
    return None

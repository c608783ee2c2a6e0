"""The order store on an embedded SQLite file, through aiosqlite. All SQL lives here."""

from app.store.sqlite.rows import path_from_url
from app.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "path_from_url"]

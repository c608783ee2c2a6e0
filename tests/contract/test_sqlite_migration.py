"""A database file made before claims carried a token still serves keyed requests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.store.sqlite.store import SQLiteStore

pytestmark = pytest.mark.anyio

# The idempotency table as files made before the claim token have it.
OLD_IDEMPOTENCY = """
CREATE TABLE idempotency (
    owner TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, result TEXT,
    expires_at REAL NOT NULL, PRIMARY KEY (owner, key)
) WITHOUT ROWID
"""
T0 = datetime(2026, 1, 2, tzinfo=UTC)


async def test_an_old_file_gets_the_token_column_and_its_claims_lapse_as_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(OLD_IDEMPOTENCY)
        old_lease = (T0 + timedelta(seconds=10)).timestamp()
        db.execute("INSERT INTO idempotency VALUES ('alice', 'k', 'fp', NULL, ?)", (old_lease,))
    store = SQLiteStore(str(path))
    await store.open()
    try:
        held = await store.claim_idempotency(
            "alice", "k", "fp", token="new", now=T0, lease_until=T0 + timedelta(seconds=10)
        )
        assert held is not None  # the old claim's lease still holds
        await store.release_idempotency("alice", "k", "new")  # not its claim: kept
        later = T0 + timedelta(seconds=11)
        assert (
            await store.claim_idempotency(
                "alice",
                "k",
                "fp",
                token="new",
                now=later,
                lease_until=later + timedelta(seconds=10),
            )
            is None
        )
        await store.release_idempotency("alice", "k", "new")
        assert (
            await store.claim_idempotency(
                "alice",
                "k",
                "fp",
                token="again",
                now=later,
                lease_until=later + timedelta(seconds=10),
            )
            is None
        )
    finally:
        await store.close()
    second = SQLiteStore(str(path))  # opening a migrated file again changes nothing
    await second.open()
    await second.close()
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(idempotency)")]
    assert columns.count("token") == 1

"""The SQLite store meeting real faults of its file, served by ``python -m app.server``: each is a
JSON 503 with ``Retry-After`` and one log line naming cause and fix, on a connection that stays
open; readiness says so; nothing acknowledged is lost; a key whose request failed is free."""

from __future__ import annotations

import time
from pathlib import Path

from tests.sqlite_faults import (
    Answer,
    Server,
    damage_pages,
    read_only,
    serving,
    small_filesystem,
    write_lock_held,
)
from tests.support import order_body

UNAVAILABLE = "The order store is temporarily unavailable; retry later"
KEYED = {"Idempotency-Key": "fault-1"}
BIG = order_body(*(f"{i:03d}" * 60 for i in range(100)))  # about 20 KB


def assert_unavailable(answer: Answer, retry_after: str) -> None:
    assert (answer.status, answer.headers["retry-after"]) == (503, retry_after)
    assert answer.body == {"detail": UNAVAILABLE}


def assert_no_traceback(server: Server) -> None:
    assert server.lines("Exception in ASGI application") == []
    assert server.lines("Traceback") == []


def assert_key_fresh_then_replayed(server: Server) -> dict[str, object]:
    """The key of a failed request runs its request again, once."""
    fresh = server("POST", "/orders", order_body("keyed"), KEYED)
    assert fresh.status == 201, fresh
    assert "idempotent-replayed" not in fresh.headers
    replay = server("POST", "/orders", order_body("keyed"), KEYED)
    assert (replay.status, replay.headers["idempotent-replayed"]) == (201, "true")
    assert replay.body == fresh.body
    body: dict[str, object] = fresh.body
    return body


def all_orders(server: Server) -> set[str]:
    ids: set[str] = set()
    path = "/orders?limit=100"
    while True:
        page = server("GET", path)
        assert page.status == 200
        ids |= {order["id"] for order in page.body["orders"]}
        link = page.headers.get("link")
        if link is None:
            return ids
        path = "/orders?" + link.split("?", 1)[1].split(">", 1)[0]


def test_a_write_lock_held_past_the_busy_timeout(tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    with serving(db, tmp_path / "server.log") as server:
        kept = server("POST", "/orders", order_body("kept")).body["id"]
        with write_lock_held(db):
            started = time.monotonic()
            assert_unavailable(server("POST", "/orders", order_body("keyed"), KEYED), "1")
            assert 9 < time.monotonic() - started < 15  # the busy timeout, 10 s
            started = time.monotonic()
            assert_unavailable(server("GET", "/health?ready=1"), "1")
            assert time.monotonic() - started < 3  # readiness waits one second for the lock
            assert server("GET", f"/orders/{kept}").status == 200  # reads go on
        assert server("GET", "/health?ready=1").status == 200
        assert_key_fresh_then_replayed(server)
        assert kept in all_orders(server)
        locked = server.lines("SQLite store unavailable: another connection held the write lock")
        assert len(locked) == 2  # one per failed request (the POST, the readiness check)
        assert f"fuser {db}" in locked[0]
        assert_no_traceback(server)


def test_a_read_only_file(tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    log = tmp_path / "server.log"
    with serving(db, log) as server:
        kept = server("POST", "/orders", order_body("kept")).body["id"]
    with read_only(db), serving(db, log) as server:
        assert_unavailable(server("POST", "/orders", order_body("new")), "30")
        assert_unavailable(server("POST", "/orders", order_body("keyed"), KEYED), "30")
        assert_unavailable(server("POST", f"/orders/{kept}/pay"), "30")
        assert_unavailable(server("GET", "/health?ready=1"), "30")  # cannot serve writes
        assert all_orders(server) == {kept}  # reads go on
        unusable = server.lines("SQLite store unusable: ")
        assert len(unusable) == 4
        assert all(f"{db} cannot be written" in line for line in unusable)
        assert all("writable by this process" in line for line in unusable)
        assert_no_traceback(server)
    with serving(db, log) as server:  # writable again (and restarted)
        assert server("GET", "/health?ready=1").status == 200
        assert_key_fresh_then_replayed(server)
        assert server("GET", f"/orders/{kept}").body["status"] == "created"


def test_a_full_filesystem(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small", "4m") as small:
        filler = small / "filler"
        filler.write_bytes(b"\0" * (3 << 20))
        with serving(small / "orders.db", tmp_path / "server.log") as server:
            acknowledged: set[str] = set()
            for _ in range(400):
                answer = server("POST", "/orders", BIG)
                if answer.status != 201:
                    break
                acknowledged.add(answer.body["id"])
            assert_unavailable(answer, "30")
            assert len(acknowledged) > 5
            for _ in range(3):
                assert_unavailable(server("POST", "/orders", BIG), "30")
            assert_unavailable(server("POST", "/orders", BIG, KEYED), "30")
            assert_unavailable(server("GET", "/health?ready=1"), "30")
            assert all_orders(server) == acknowledged  # reads go on
            full = server.lines("SQLite store unusable: no space left for")
            assert len(full) == 6
            assert all("free space on its filesystem" in line for line in full)
            assert_no_traceback(server)

            filler.unlink()
            assert server("GET", "/health?ready=1").status == 200
            keyed = server("POST", "/orders", BIG, KEYED)
            assert (keyed.status, keyed.headers.get("idempotent-replayed")) == (201, None)
            assert all_orders(server) == acknowledged | {keyed.body["id"]}


def test_damaged_pages(tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    log = tmp_path / "server.log"
    with serving(db, log) as server:
        kept = [server("POST", "/orders", order_body(f"kept-{i}")).body["id"] for i in range(30)]
    assert damage_pages(db) > 0
    with serving(db, log) as server:
        assert_unavailable(server("GET", "/health?ready=1"), "30")  # before any request read
        assert_unavailable(server("GET", "/orders"), "30")
        assert_unavailable(server("GET", f"/orders/{kept[0]}"), "30")
        assert_unavailable(server("POST", "/orders", order_body("keyed"), KEYED), "30")
        assert_unavailable(server("GET", "/health?ready=1"), "30")
        corrupt = server.lines("SQLite store unusable: ")
        assert len(corrupt) == 6  # found when opening, then one per request
        assert all(f"{db} is corrupt" in line for line in corrupt)
        assert all(f"sqlite3 {db} .recover" in line for line in corrupt)
        assert_no_traceback(server)

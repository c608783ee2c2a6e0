"""Real faults of a SQLite file: a write lock held by another process, a read-only file, a full
filesystem, damaged pages. And the server that meets them, over one keep-alive connection."""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devtools.ports import free_port
from tests.test_process_lifecycle import ROOT


@contextmanager
def write_lock_held(db: Path) -> Iterator[None]:
    """Another process holds the file's write lock (``BEGIN IMMEDIATE``) until the block ends."""
    holder = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"db = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    assert holder.stdout.readline() == b"held\n"
    try:
        yield
    finally:
        holder.stdin.close()
        holder.stdout.close()
        holder.wait(timeout=10)


def _run(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0  # noqa: S603


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` cannot be written by the server: its mode for another user, a read-only bind
    mount of it for root (whom modes do not stop)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if not (_run("mount", "--bind", str(path), str(path))):
        pytest.skip("root without the right to mount: cannot make a file read-only")
    try:
        assert _run("mount", "-o", "remount,ro,bind", str(path), str(path))
        yield
    finally:
        assert _run("umount", str(path))


@contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (root only), unmounted at the end."""
    where.mkdir()
    if os.geteuid() != 0 or not _run("mount", "-t", "tmpfs", "-o", f"size={size}", "t", str(where)):
        pytest.skip("needs root (a mounted tmpfs) to fill a filesystem for real")
    try:
        yield where
    finally:
        assert _run("umount", "-l", str(where))


def damage_pages(db: Path) -> int:
    """Overwrite every page but the first (the schema) of a checkpointed database; how many."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size: int = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    pages = db.stat().st_size // page_size
    with db.open("r+b") as file:
        for page in range(1, pages):
            file.seek(page * page_size)
            file.write(b"\xa5" * page_size)
    return pages - 1


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Server:
    """``python -m app.server`` on a SQLite file; its log; one keep-alive client connection."""

    db: Path
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    conn: http.client.HTTPConnection | None = None
    sock: object = None

    def start(self) -> None:
        env = {**os.environ, "STORE_URL": f"sqlite:///{self.db}", "GREET_DELAY": "0"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "app.server", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.connect()
                self.sock = self.conn.sock
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def __call__(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """One request on the same connection, which must stay open whatever the answer."""
        assert self.conn is not None
        payload = None if body is None else json.dumps(body).encode()
        sent = {"content-type": "application/json", **(headers or {})}
        self.conn.request(method, path, body=payload, headers=sent)
        response = self.conn.getresponse()
        raw = response.read()
        answer = Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            json.loads(raw) if raw else None,
        )
        assert self.conn.sock is self.sock, "the server closed the connection"
        assert answer.headers.get("connection") != "close"
        if answer.status >= 400:
            assert answer.headers["content-type"] == "application/json"
        return answer

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if needle in line]


@contextmanager
def serving(db: Path, log: Path) -> Iterator[Server]:
    server = Server(db, log)
    server.start()
    try:
        yield server
    finally:
        server.stop()

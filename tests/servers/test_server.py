"""The real server, started the way `make run` starts it, driven over real HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port
from tests.support import order_body

ROOT = Path(__file__).resolve().parents[2]


def start_server(db: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "STORE_URL": f"sqlite:///{db}", "GREET_DELAY": "0"}
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    proc, base = start_server(tmp_path / "orders.db")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_full_order_lifecycle_over_http(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        assert client.get("/hi").json() == "Hello, async FastAPI!"
        created = client.post("/orders", json=order_body("flat white"))
        assert created.status_code == 201
        oid = created.json()["id"]
        assert created.headers["location"] == f"/orders/{oid}"
        head = client.head(f"/orders/{oid}")
        assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", '"1"')
        assert client.put(f"/orders/{oid}", json=order_body("mocha")).status_code == 200
        assert client.post(f"/orders/{oid}/pay").json()["status"] == "paid"
        assert client.post(f"/orders/{oid}/pay").status_code == 409
        assert client.post(f"/orders/{oid}/cancel").json()["status"] == "cancelled"
        listed = client.get("/orders", params={"cancelled": "true"}).json()["orders"]
        assert [o["id"] for o in listed] == [oid]
        deleted = client.delete(f"/orders/{oid}")
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert "content-type" not in deleted.headers
        assert client.get(f"/orders/{oid}").status_code == 404


def test_oversized_body_over_http_is_413(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        response = client.post(
            "/orders", content=b"x" * 100_000, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["detail"].startswith("Request body larger")

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 1024

        chunked = client.post("/orders", content=chunks())
        assert chunked.status_code == 413
        assert client.get("/orders").json() == {"orders": []}


def test_two_workers_writing_one_file_never_lock(tmp_path: Path) -> None:
    proc, base = start_server(tmp_path / "shared.db", "--workers", "2")
    try:

        async def hammer() -> list[int]:
            limits = httpx.Limits(max_connections=40)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
                created = await asyncio.gather(
                    *(client.post("/orders", json=order_body(f"n{i}")) for i in range(300))
                )
                ids = [r.json()["id"] for r in created if r.status_code == 201]
                paid = await asyncio.gather(*(client.post(f"/orders/{i}/pay") for i in ids))
                return [r.status_code for r in [*created, *paid]]

        codes = asyncio.run(hammer())
        assert codes == [201] * 300 + [200] * 300
        with httpx.Client(base_url=base) as client:
            listed = client.get("/orders", params={"limit": 100, "cancelled": "false"})
            assert len(listed.json()["orders"]) == 100
    finally:
        proc.terminate()
        proc.wait(timeout=10)

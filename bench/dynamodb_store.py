"""Per-operation latency of the order stores, and the import cost of the DynamoDB client stack.

Latency: N sequential calls of each store operation (add, get, list, update, delete) against
moto's DynamoDB server on this machine (or ``--url`` for any DynamoDB endpoint), and the SQLite
store for reference. moto is a Python emulator: its numbers show the client's overhead plus
moto's, not DynamoDB's service latency.

Import time: ``python -X importtime`` in fresh interpreters (median of runs): the sum of the
top-level cumulative µs of what the measured statement imports after startup and setup (the
store's stack: aiodynamo's signer and credential chain, httpcore and h11, yarl).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from app.domain.orders import Order, OrderItem, Size, Status
from app.service import new_order_id
from app.store import OrderStore, open_store

ROOT = Path(__file__).resolve().parent.parent
CREATED, PAID = frozenset({Status.CREATED}), Status.PAID
OPERATIONS = ("add", "get", "list", "update", "delete")
MARKER = "this"  # a stdlib module nothing imports (it prints to the captured stdout)
# label -> (setup statement whose imports are not counted, measured statement)
IMPORTS = {
    "DynamoDB client stack (app/store/dynamodb/client.py), fresh interpreter": (
        "",
        "import app.store.dynamodb.client",
    ),
    "app.store.dynamodb on top of app.main": ("import app.main", "import app.store.dynamodb.store"),
    "app.store.sqlite on top of app.main": ("import app.main", "import app.store.sqlite"),
}


def _top_level(stderr: str) -> list[tuple[str, int]]:
    """(module, cumulative µs) of every top-level line of ``-X importtime`` output, in order."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not name.startswith("  "):  # nested imports are counted in their parent
            rows.append((name.strip(), int(cumulative)))
    return rows


def import_time_us(python: str, setup: str, statement: str, runs: int) -> int:
    """Median µs of the imports ``statement`` adds after ``setup`` (and interpreter startup).

    Bytecode caches are allowed and a first run writes them, as a deployment would ship them:
    without ``.pyc`` files every import compiles its source and costs several times more.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [python, "-X", "importtime", "-c", f"{setup}\nimport {MARKER}\n{statement}"]
    totals = []
    for _ in range(runs + 1):  # the first run only warms the bytecode cache
        result = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, check=True, cwd=ROOT, env=env
        )
        rows = _top_level(result.stderr)
        marker = next(i for i, (name, _) in enumerate(rows) if name == MARKER)
        totals.append(sum(cumulative for _, cumulative in rows[marker + 1 :]))
    return int(statistics.median(totals[1:]))


def order(i: int) -> Order:
    items = (OrderItem(f"drink {i}", Size.MEDIUM, 2), OrderItem("cookie", Size.SMALL, 1))
    return Order(new_order_id(), "bench", datetime.now(UTC), Status.CREATED, items)


async def measure(store: OrderStore, n: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {op: [] for op in OPERATIONS}

    async def timed(op: str, call: Callable[[], Awaitable[object]]) -> None:
        started = time.perf_counter()
        await call()
        samples[op].append((time.perf_counter() - started) * 1000)

    orders = [order(i) for i in range(n)]
    listing = partial(store.list, "bench", cancelled=None, limit=20, before=None)
    for o in orders:
        await timed("add", partial(store.add, o))
    for o in orders:
        await timed("get", partial(store.get, "bench", o.id))
        await timed("list", listing)
        pay = partial(store.update, "bench", o.id, allowed_from=CREATED, status=PAID)
        await timed("update", pay)
    for o in orders:
        await timed("delete", partial(store.delete, "bench", o.id))
    return samples


async def bench_store(url: str, n: int) -> dict[str, list[float]]:
    store = open_store(url)
    await store.open()
    try:
        return await measure(store, n)
    finally:
        await store.close()


def report(name: str, samples: dict[str, list[float]]) -> None:
    print(f"\n{name}")
    print(f"  {'operation':<10}{'median ms':>10}{'p90 ms':>10}{'calls':>8}")
    for op, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"  {op:<10}{statistics.median(values):>10.2f}{p90:>10.2f}{len(values):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dynamodb_store", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-n", type=int, default=200, help="calls per operation")
    parser.add_argument("--url", help="a dynamodb:// store URL (default: a local moto server)")
    parser.add_argument(
        "--import-runs", type=int, default=7, help="fresh interpreters per import (%(default)s)"
    )
    parser.add_argument(
        "--stack-python",
        default=sys.executable,
        help="interpreter for the client-stack import (e.g. one with only the aws extra)",
    )
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request

    print(f"Import time (python -X importtime, median of {args.import_runs} fresh interpreters):")
    for label, (setup, statement) in IMPORTS.items():
        python = sys.executable if setup else args.stack_python
        cost = import_time_us(python, setup, statement, args.import_runs)
        print(f"  {label:<54}{cost:>9} µs")

    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_REGION", "us-east-1")
    from app.store.dynamodb.admin import create_table
    from app.store.dynamodb.config import DynamoDBConfig

    url = args.url
    server = None
    if url is None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"dynamodb://orders-bench?endpoint=http://{host}:{port}"
    asyncio.run(create_table(DynamoDBConfig.from_url(url)))
    report(f"DynamoDB store against {url}", asyncio.run(bench_store(url, args.n)))
    if server is not None:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        report(f"SQLite store ({sqlite_url})", asyncio.run(bench_store(sqlite_url, args.n)))


if __name__ == "__main__":
    main()

"""Local throughput: requests/s of one uvicorn worker, per stack, interleaved run by run.

Variants per stack: the project's ``GET /hi`` (GREET_DELAY=0), the minimal FastAPI app's
``GET /hi`` (the baseline), the project's ``GET /orders/{id}`` on SQLite (dev identity), and,
for context, a bare ASGI app answering the greeting (what the server and the load generator
reach without any framework: the ceiling of this core).
The load generator (bench/loadgen.py) runs in another process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench.events import ORDER
from bench.loadgen import generator, requests_per_second
from bench.server import HELLO_APP, ORDERS_APP, SLEEP_APP, STACKS, uvicorn
from bench.stats import Figure

SECTION = "local throughput"


def _create_order(base: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - local URL
        f"{base}/orders",
        data=json.dumps(ORDER).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        order_id: str = json.load(response)["id"]
        return order_id


def run(rounds: int = 3, seconds: int = 3, stacks: tuple[str, ...] = tuple(STACKS)) -> list[Figure]:
    """``rounds`` interleaved runs of ``seconds`` per variant and stack."""
    figures: list[tuple[Figure, str]] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        env = {"GREET_DELAY": "0", "STORE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
               "IDENTITY_MODE": "dev", "LOG_LEVEL": "WARNING"}  # fmt: skip
        for stack in stacks:
            ours = servers.enter_context(uvicorn(ORDERS_APP, stack, env))
            hello = servers.enter_context(uvicorn(HELLO_APP, stack, env))
            bare = servers.enter_context(uvicorn(SLEEP_APP, stack, env))
            order_id = _create_order(ours)
            base = f"hello GET /hi [{stack}]"
            figures += [
                (Figure(SECTION, f"orders GET /hi [{stack}]", "req/s", better="higher",
                        baseline=base), f"{ours}/hi"),
                (Figure(SECTION, base, "req/s", better="higher"), f"{hello}/hi"),
                (Figure(SECTION, f"orders GET /orders/{{id}} [{stack}]", "req/s",
                        better="higher", baseline=base, note="SQLite"),
                 f"{ours}/orders/{order_id}"),
                (Figure(SECTION, f"bare ASGI GET /hi [{stack}]", "req/s", better="higher",
                        note="context: no framework"), f"{bare}/hi"),
            ]  # fmt: skip
        for _, url in figures:
            requests_per_second(url, 1)  # warm up
        for _ in range(rounds):
            for figure, url in figures:
                figure.samples.append(requests_per_second(url, seconds))
    for figure, _ in figures:
        figure.note = ", ".join(filter(None, [figure.note, f"load: {generator()}"]))
    return [figure for figure, _ in figures]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (%(default)s)")
    parser.add_argument(
        "--seconds", type=int, default=2, help="load per variant and round (%(default)s)"
    )
    parser.add_argument(
        "--stacks", nargs="*", choices=tuple(STACKS), default=tuple(STACKS), help="stacks to run"
    )
    args = parser.parse_args()
    for figure in run(rounds=args.rounds, seconds=args.seconds, stacks=tuple(args.stacks)):
        print(f"{figure.name:44s} {figure.median:10.0f} {figure.unit}")


if __name__ == "__main__":
    main()

"""Warm Lambda invocations: µs per ``handler(event, context)`` call, in one process.

Variants, interleaved round by round so that machine noise hits all alike:

- ``orders GET /hi``: this project's handler (``build_handler``: gateway identity, GREET_DELAY=0);
- ``hello GET /hi``: a minimal FastAPI + Mangum hello world (``lifespan="off"``), the baseline;
- ``orders GET /orders/{id}``: the project's handler reading one order from SQLite (a temporary
  file; DynamoDB over HTTP would measure moto's server, not the handler).

Usage: ``python -m bench.warm [--rounds 15] [--calls 2000]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.aws_lambda.factory import build_handler
from app.config import Settings
from bench.events import create_event, get_event, hi_event
from bench.stats import Figure

SECTION = "warm invocation"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def per_call_us(handler: Handler, event: dict[str, Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        response = handler(copy.copy(event), None)
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    return elapsed / calls * 1e6


def run(rounds: int = 15, calls: int = 2000) -> list[Figure]:
    """``rounds`` interleaved rounds of ``calls`` calls per variant."""
    logging.disable(logging.INFO)  # measure the work, not the log handler's output
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                store_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
                greet_delay=0,
                identity_mode="gateway",
            )
            orders = build_handler(settings)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # Mangum's get_event_loop()
                from bench.baselines.hello_mangum import handler as hello
            created = orders(create_event("alice"), None)
            assert created["statusCode"] == 201, created
            order_event = get_event("alice", json.loads(created["body"])["id"])
            variants: list[tuple[Figure, Handler, dict[str, Any]]] = [
                (Figure(SECTION, "orders GET /hi", "µs", baseline="hello GET /hi"), orders,
                 hi_event()),
                (Figure(SECTION, "hello GET /hi", "µs"), hello, hi_event()),
                (Figure(SECTION, "orders GET /orders/{id}", "µs", baseline="hello GET /hi",
                        note="SQLite"), orders, order_event),
            ]  # fmt: skip
            for _, handler, event in variants:
                per_call_us(handler, event, 200)  # warm up
            for _ in range(rounds):
                for figure, handler, event in variants:
                    figure.samples.append(per_call_us(handler, event, calls))
            orders.close()
    finally:
        logging.disable(logging.NOTSET)
    return [figure for figure, _, _ in variants]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.warm", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (%(default)s)")
    parser.add_argument(
        "--calls", type=int, default=2000, help="warm invocations per round (%(default)s)"
    )
    args = parser.parse_args()
    figures = run(args.rounds, args.calls)
    base = figures[1].median
    for figure in figures:
        print(
            f"  {figure.name:26s} {figure.median:8.1f} µs  "
            f"(range {figure.low:.0f}-{figure.high:.0f}; {figure.median / base:.2f}x hello)"
        )


if __name__ == "__main__":
    main()

"""Warm Lambda invocations: µs per call of ``GET /hi`` (GREET_DELAY=0), in one process.

Compares, interleaved round by round so that machine noise hits all alike:

- ``orders``: this project's handler (``build_handler``: SQLite store, gateway identity);
- ``hello``: a minimal FastAPI + Mangum hello world (``lifespan="off"``), the floor;
- ``orders-mangum-auto``: the same orders app behind plain ``Mangum(app)`` (lifespan "auto",
  startup + shutdown per invocation, mangum #342), what the handler replaces.

Usage: ``python -m bench.warm [--rounds 15] [--calls 2000]``; prints medians and ratios.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mangum import Mangum

from app.config import Settings
from app.lambda_adapter import build_handler
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def hi_event() -> dict[str, Any]:
    """The AWS HTTP API 2.0 sample event, aimed at ``GET /hi``."""
    event: dict[str, Any] = json.loads((ROOT / "tests/events/http-api-v2.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/hi"
    event["requestContext"]["http"]["method"] = "GET"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /hi"
    event["rawQueryString"], event["body"] = "", None
    return event


def per_call_us(handler: Handler, event: dict[str, Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        response = handler(copy.copy(event), None)
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    return elapsed / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # measure the work, not the log handler
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            store_url=f"sqlite:///{Path(tmp) / 'bench.db'}", greet_delay=0, identity_mode="gateway"
        )
        orders = build_handler(settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Mangum's get_event_loop()
            from bench.baselines.hello_mangum import handler as hello

            auto = Mangum(create_app(settings), lifespan="auto")
        variants: dict[str, Handler] = {
            "orders": orders,
            "hello": hello,
            "orders-mangum-auto": auto,
        }
        event = hi_event()
        for handler in variants.values():
            per_call_us(handler, event, 200)  # warm up
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, handler in variants.items():
                calls = args.calls if name != "orders-mangum-auto" else args.calls // 10
                samples[name].append(per_call_us(handler, event, calls))
        orders.close()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"warm GET /hi, {args.rounds} interleaved rounds, median µs per call:")
    for name, median in medians.items():
        spread = f"{min(samples[name]):.0f}-{max(samples[name]):.0f}"
        ratio = median / medians["hello"]
        print(f"  {name:20s} {median:8.1f} µs   (range {spread}; {ratio:.2f}x hello)")


if __name__ == "__main__":
    main()

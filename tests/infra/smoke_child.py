"""Run inside a fresh ``python3.13 -I -S`` with only the Lambda asset on ``sys.path``.

Usage: ``python3.13 -I -S smoke_child.py <asset dir>``; reads a JSON list of Lambda events on
stdin, imports the handler module as Lambda does, and prints one JSON report on stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any


class LambdaContext:
    """The attributes Lambda's Python runtime context offers that handlers commonly read."""

    function_name = "orders-api-smoke"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api-smoke:live"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/orders-api-smoke"
    log_stream_name = "2026/11/24/[1]smoke"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    asset = sys.argv[1]
    sys.path.insert(0, asset)
    events: list[dict[str, Any]] = json.load(sys.stdin)
    started = time.perf_counter()
    module = importlib.import_module("app.aws_lambda.handler")
    import_seconds = time.perf_counter() - started
    responses = [module.handler(event, LambdaContext(f"req-{n}")) for n, event in enumerate(events)]
    fastapi = sys.modules["fastapi"]
    report = {
        "import_seconds": import_seconds,
        "handler_file": module.__file__,
        "fastapi_file": fastapi.__file__,
        "sys_path": sys.path,
        "isolated": sys.flags.isolated,
        "version": list(sys.version_info[:2]),
        "responses": responses,
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()

"""``python -m devtools.gateway``'s options (``--help`` lists them)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from devtools.gateway.server import INTEGRATION_TIMEOUT
from devtools.gateway.terminal import FORMATS


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.gateway",
        description="Serve the API as API Gateway and Lambda would (make gateway).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (%(default)s)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=INTEGRATION_TIMEOUT,
        help="API Gateway's integration timeout in seconds (%(default)g)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="serve the handler in this process (no Lambda runtime, no Python 3.13)",
    )
    parser.add_argument(
        "--init-type",
        choices=["snap-start", "on-demand"],
        default="snap-start",
        help="the function's initialization: SnapStart, as the stack deploys it, or on demand",
    )
    parser.add_argument(
        "--stage",
        choices=["dev", "prod"],
        default="dev",
        help="the stack's stage the function and throttles are read from (%(default)s)",
    )
    parser.add_argument(
        "--dynamodb-endpoint", help="a DynamoDB-compatible server (default: moto, in memory)"
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack knob, as `make synth CONTEXT=...` takes it (e.g. memory-mb=1024)",
    )
    parser.add_argument(
        "--unscaled",
        action="store_true",
        help="run every environment at the host's full CPU, not its memory size's share",
    )
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default=None,
        help="lines: one readable line per request; json: the access record and the whole "
        "function log stream as JSON lines (default: lines at a terminal, else json)",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        metavar="PATH",
        help="also append the JSON (access records, the function log stream) to PATH",
    )
    return parser.parse_args(argv)

"""``python -m app.server [--host H] [--port P]``: serve the app with uvicorn, bounded.

What ``make run`` runs, and the command for a container. The settings are read and checked
first: a bad one is one line on stderr and exit status 2, before anything starts. Then one
uvicorn process serves ``create_app()`` with the limits of ``ServerLimits`` (header size,
header/body read time, idle time, open connections, the cap fitted to the open-file limit:
``fit_open_files``); SIGINT or SIGTERM lets in-flight
requests finish (at most ``drain_timeout`` seconds), runs the app's shutdown once and exits 0;
a second SIGINT ends the process at once, killed by SIGINT (``app.server.interrupt``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import sys
from collections.abc import Sequence

from app.config import ConfigError, exit_for, load_settings
from app.server.bounded import BoundedConfig, BoundedH11Protocol
from app.server.interrupt import InterruptibleServer
from app.server.limits import ServerLimits, fit_open_files, log_config

DEFAULTS = ServerLimits()


def http_protocol(name: str) -> type[object]:
    """The bounded protocol for ``--http``: httptools when installed (auto), else h11."""
    if name in ("auto", "httptools"):
        try:
            from app.server.fast_protocol import BoundedHttpToolsProtocol
        except ImportError:
            if name == "httptools":
                raise
        else:
            return BoundedHttpToolsProtocol
    return BoundedH11Protocol


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.server",
        description="Serve the app with uvicorn, each client's share of it bounded.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (%(default)s)")
    parser.add_argument(
        "--http",
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="uvicorn's HTTP parser (auto: httptools when installed, else h11)",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn's own log level")
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="no line per request",
    )
    for field in dataclasses.fields(ServerLimits):
        default = getattr(DEFAULTS, field.name)
        parser.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=type(default),
            default=default,
            metavar="N",
            help=f"{field.metadata['help']} (default {default})",
        )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        load_settings()
    except ConfigError as exc:
        exit_for(exc)
    limits, warning = fit_open_files(
        ServerLimits(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ServerLimits)})
    )
    config = BoundedConfig(
        "app.server.cutoff:served_app",
        factory=True,
        limits=limits,
        host=args.host,
        port=args.port,
        http=http_protocol(args.http),
        log_level=args.log_level,
        log_config=log_config(),
        access_log=args.access_log,
    )
    if warning:  # once uvicorn's logging is configured
        logging.getLogger("app.server").warning(warning)
    server = InterruptibleServer(config)
    # After a graceful shutdown uvicorn raises the SIGINT it received again: the drain is done.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 3  # 3: uvicorn's status for a failed startup


if __name__ == "__main__":
    sys.exit(main())

"""What one server process accepts from its clients: the numbers ``python -m app.server`` uses.

uvicorn alone bounds none of these with its default parser (httptools): a 100 MB header is
buffered whole, a client may take forever to send its headers or body, and every connection
is accepted. ``app.server.protocols`` enforces them for both of uvicorn's parsers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from uvicorn.config import LOGGING_CONFIG


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Per-process limits; the defaults are what ``make run`` serves with (see the README)."""

    # Request line + headers; more → 431 (414 when the request line alone is longer).
    max_head_bytes: int = 16 * 1024
    # Seconds from a request's first byte to the end of its headers; longer → 408.
    head_timeout: float = 5.0
    # Seconds from the end of the headers to the body's last byte; longer → 408. A 64 KiB body
    # (MAX_BODY_BYTES) at 6.5 KB/s still arrives in time.
    body_timeout: float = 10.0
    # Seconds a connection may stay open without a request (uvicorn's keep-alive timeout).
    idle_timeout: int = 5
    # Open connections; one more is answered 503 and closed. Stays below the common default
    # of 1,024 open files per process, with room for the store's files.
    max_connections: int = 1000
    # Seconds in-flight requests get to finish after SIGINT/SIGTERM before they are cancelled
    # (inside `docker stop`'s default grace of 10 s); then the app shuts down.
    drain_timeout: int = 8


def log_config(*loggers: str) -> dict[str, Any]:
    """uvicorn's logging, with the app's loggers (``app.*``, and ``loggers``) written the same
    way (their levels are their own: ``LOG_LEVEL`` for the app's)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("app", *loggers):
        config["loggers"][name] = {"handlers": ["default"], "propagate": False}
    return config

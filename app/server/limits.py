"""What one server process accepts from its clients: the numbers ``python -m app.server`` uses.

uvicorn alone bounds none of these with its default parser (httptools): a 100 MB header is
buffered whole, a client may take forever to send its headers or body, and every connection
is accepted. ``app.server.protocols`` enforces them for both of uvicorn's parsers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def _limit(default: Any, meaning: str) -> Any:
    return field(default=default, metadata={"help": meaning})


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Per-process limits; the defaults are what ``make run`` serves with (see the README)."""

    max_head_bytes: int = _limit(
        16 * 1024, "bytes of request line + headers; more is 431 (414: the request line alone)"
    )
    head_timeout: float = _limit(
        5.0, "seconds from a request's first byte to the end of its headers; longer is 408"
    )
    # A 64 KiB body (MAX_BODY_BYTES) at 6.5 KB/s still arrives in time.
    body_timeout: float = _limit(
        10.0, "seconds from the end of the headers to the body's last byte; longer is 408"
    )
    idle_timeout: int = _limit(5, "seconds a connection may stay open without a request")
    # Below the common default of 1,024 open files per process, with room for the store's.
    max_connections: int = _limit(1000, "open connections; one more is answered 503")
    # Inside `docker stop`'s default grace of 10 s.
    drain_timeout: int = _limit(
        8, "seconds in-flight requests get after SIGINT/SIGTERM before they are cancelled"
    )


def log_config(*loggers: str) -> dict[str, Any]:
    """uvicorn's logging, with the app's loggers (``app.*``, and ``loggers``) written the same
    way (their levels are their own: ``LOG_LEVEL`` for the app's)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("app", *loggers):
        config["loggers"][name] = {"handlers": ["default"], "propagate": False}
    return config

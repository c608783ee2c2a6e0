"""What one server process accepts from its clients: the numbers ``python -m app.server`` uses.

uvicorn alone bounds none of these with its default parser (httptools): a 100 MB header is
buffered whole, a client may take forever to send its headers or body, and every connection
is accepted. ``app.server.bounded`` enforces them for both of uvicorn's parsers.
"""

from __future__ import annotations

import copy
import dataclasses
import resource
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
    max_connections: int = _limit(
        1000, "open connections; one more is answered 503 (lowered to fit the open-file limit)"
    )
    # Inside `docker stop`'s default grace of 10 s.
    drain_timeout: int = _limit(
        8, "seconds in-flight requests get after SIGINT/SIGTERM before they are cancelled"
    )


# Open files a server keeps beside its connections: its own (listening socket, event loop,
# store, logs) and those of connections it refuses (`guard.DRAINING` of them at most).
RESERVED_FILES = 64


def fit_open_files(limits: ServerLimits) -> tuple[ServerLimits, str | None]:
    """The connection cap and the open-file limit made to agree, the cap deciding: the soft
    limit is raised (toward the hard one) to ``max_connections + RESERVED_FILES``; where the
    hard limit is lower, the cap is lowered to fit it. Each accepted connection then has a
    file, and one beyond the cap is answered 503 instead of failing to be accepted. Returns
    the limits to serve with, and a warning when the cap was lowered."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limits.max_connections + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return limits, None
    cap = max(1, soft - RESERVED_FILES)
    warning = (
        f"open files limited to {soft} (ulimit -n): serving at most {cap} connections instead "
        f"of {limits.max_connections}; raise the limit to {wanted} or pass --max-connections"
    )
    return dataclasses.replace(limits, max_connections=cap), warning


def log_config(*loggers: str) -> dict[str, Any]:
    """uvicorn's logging, with the app's loggers (``app.*``, and ``loggers``) written the same
    way (their levels are their own: ``LOG_LEVEL`` for the app's)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("app", *loggers):
        config["loggers"][name] = {"handlers": ["default"], "propagate": False}
    return config

"""What ``python -m devtools.gateway`` writes, and where it listens.

Two log formats (``--log-format``; default ``lines`` when stdout is a terminal, else ``json``):

- ``lines``: one readable line per request on stdout (``access_log.AccessRecord.text``); of the
  function's log stream only the lines at WARN and above (errors, tracebacks) on stderr.
- ``json``: the gateway's access record as one JSON document per request on stdout, and the
  whole function log stream on stderr, as Lambda sends it to CloudWatch (per request
  ``platform.start``, the app's access line, its EMF metrics line, ``platform.report``).

``--log-file PATH`` appends the JSON (access records and the whole function log stream) to a
file, whichever format the terminal gets. The gateway's own lines (startup, shutdown, the
emulator's warnings) go to stderr as uvicorn writes its own.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from typing import Any

from app.server.limits import log_config
from devtools.lambda_runtime.reports import line_level, passes

FORMATS = ("lines", "json")
STREAM = "devtools.gateway.function"  # the logger the function's log stream is written to


def default_format() -> str:
    """``lines`` for a person at a terminal, ``json`` for a pipe or a file."""
    return "lines" if sys.stdout.isatty() else "json"


class WarningsAndAbove(logging.Filter):
    """Function log lines whose level (as Lambda reads it) is WARN or above."""

    def filter(self, record: logging.LogRecord) -> bool:
        return passes(line_level(record.getMessage()), "WARN")


class RawOrJson(logging.Formatter):
    """The function's log lines as they are; anything else as the access log's JSON."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == STREAM:
            return record.getMessage()
        from devtools.gateway.access_log import JsonFormatter

        return JsonFormatter().format(record)


def logging_config(log_format: str, log_file: Path | None) -> dict[str, Any]:
    """uvicorn's logging set-up with the access log and the function's stream added."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, not {log_format!r}")
    config = log_config("devtools")
    config["loggers"]["devtools"]["level"] = "INFO"  # the gateway's own lines (shutdown...)
    module = "devtools.gateway"
    config["formatters"].update(
        {
            "gateway-lines": {"()": f"{module}.access_log.LinesFormatter"},
            "gateway-json": {"()": f"{module}.access_log.JsonFormatter"},
            "raw-or-json": {"()": f"{module}.terminal.RawOrJson"},
        }
    )
    config.setdefault("filters", {})["warnings"] = {"()": f"{module}.terminal.WarningsAndAbove"}
    stream: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "raw-or-json",
    }
    if log_format == "lines":
        stream["filters"] = ["warnings"]
    config["handlers"].update(
        {
            "gateway-access": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": f"gateway-{log_format}",
            },
            "gateway-stream": stream,
        }
    )
    access = ["gateway-access"]
    function = ["gateway-stream"]
    if log_file is not None:
        config["handlers"]["gateway-file"] = {
            "class": "logging.FileHandler",
            "filename": str(log_file),
            "formatter": "raw-or-json",
        }
        access.append("gateway-file")
        function.append("gateway-file")
    config["loggers"][f"{module}.access"] = {
        "handlers": access,
        "level": "INFO",
        "propagate": False,
    }
    config["loggers"][STREAM] = {"handlers": function, "level": "INFO", "propagate": False}
    return config


def function_echo(line: str) -> None:
    """Where the local Lambda service writes each line of the function's log stream."""
    logging.getLogger(STREAM).info("%s", line)


def listening_socket(host: str, port: int) -> socket.socket:
    """The gateway's socket, bound before anything else starts; one line and exit status 1
    when the address is taken (or cannot be used)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"make gateway: cannot listen on {host}:{port} ({exc.strerror}): stop what uses "
            "it or pick another port (make gateway GATEWAY_PORT=<port>, or --port)"
        ) from None
    return sock

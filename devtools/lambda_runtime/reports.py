"""Lambda's platform log lines (INIT_START, START, REPORT...) and the numbers they carry.

With the function's log format JSON (the stack's), Lambda writes them as ``platform.*``
records; with Text, as the familiar tab-separated lines. Both come from the same ``Report``.

With JSON, Lambda also filters the stream by level (monitoring-cloudwatchlogs-log-level): the
function's lines by the application log level, each line's level read from its JSON
``"level"`` (a line without one, or not JSON, counts as INFO), and its own records by the
system log level (the ones written here are INFO records).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devtools.lambda_runtime.journal import Journal

RUNTIME_VERSION = "python:3.13.local"
# Lambda's levels, least severe first; Python's names as the runtime client writes them.
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
_ALIASES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
PLATFORM_LEVEL = "INFO"
# Marks figures measured at the host's full CPU, not the share the memory size buys on Lambda.
UNSCALED = "unscaled"


def line_level(line: str) -> str:
    """The level Lambda gives one line of the function's output."""
    try:
        document = json.loads(line)
    except ValueError:
        return "INFO"
    level = document.get("level") if isinstance(document, dict) else None
    if not isinstance(level, str):
        return "INFO"
    level = _ALIASES.get(level.upper(), level.upper())
    return level if level in LEVELS else "INFO"


def passes(level: str, threshold: str | None) -> bool:
    """Whether a line of ``level`` reaches the log group under ``threshold`` (None: no filter)."""
    return threshold is None or LEVELS.index(level) >= LEVELS.index(threshold)


@dataclass(frozen=True)
class Report:
    """One invocation's REPORT."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    status: str = "success"  # "success", "error" or "timeout"
    error_type: str | None = None
    init_duration_ms: float | None = None  # on-demand: the first invocation of an environment
    restore_duration_ms: float | None = None  # SnapStart: the first one after a restore
    cpu_scaled: bool = True  # False: the environment ran at the host's full CPU (not Lambda's)

    @property
    def billed_duration_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))

    def metrics(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {
            "durationMs": round(self.duration_ms, 2),
            "billedDurationMs": self.billed_duration_ms,
            "memorySizeMB": self.memory_size_mb,
            "maxMemoryUsedMB": self.max_memory_used_mb,
        }
        if self.init_duration_ms is not None:
            metrics["initDurationMs"] = round(self.init_duration_ms, 2)
        if self.restore_duration_ms is not None:
            metrics["restoreDurationMs"] = round(self.restore_duration_ms, 2)
            metrics["billedRestoreDurationMs"] = math.ceil(self.restore_duration_ms)
        return metrics

    def text(self) -> str:
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_duration_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.restore_duration_ms is not None:
            fields.append(f"Restore Duration: {self.restore_duration_ms:.2f} ms")
            fields.append(f"Billed Restore Duration: {math.ceil(self.restore_duration_ms)} ms")
        if self.status != "success":
            fields.append(f"Status: {self.status}")
            if self.error_type:
                fields.append(f"Error Type: {self.error_type}")
        if not self.cpu_scaled:
            fields.append(f"CPU: {UNSCALED}")
        return "\t".join(fields)


class Logs:
    """The function's log stream: its own output and the platform's lines, in order.

    ``echo`` (if given) receives every line as it is written, e.g. to print it. With JSON,
    ``function`` and ``platform`` lines below their log level are dropped (counted in
    ``dropped``), as Lambda drops them; without a level configured, Lambda's default INFO.
    """

    def __init__(
        self,
        log_format: str,
        echo: Callable[[str], None] | None = None,
        *,
        application_level: str | None = None,
        system_level: str | None = None,
    ) -> None:
        self.json = log_format.upper() == "JSON"
        self.echo = echo
        self.application_level = (application_level or "INFO") if self.json else None
        self.system_level = (system_level or "INFO") if self.json else None
        self.dropped = 0
        self._lock = threading.Lock()
        self.journal: Journal[str] = Journal()  # the newest lines, bounded

    def lines(self) -> list[str]:
        return self.journal.snapshot()

    def write(self, line: str) -> None:
        self.journal.append(line)
        if self.echo is not None:
            self.echo(line)

    def function(self, line: str) -> None:
        """One line of the function's own output (stdout and stderr)."""
        if self.json and not passes(line_level(line), self.application_level):
            self._drop()
            return
        self.write(line)

    def _drop(self) -> None:
        with self._lock:
            self.dropped += 1

    def platform(self, kind: str, record: dict[str, Any], text: str) -> None:
        """A platform record: ``{"time", "type": "platform.<kind>", "record"}`` or ``text``."""
        if self.json and not passes(PLATFORM_LEVEL, self.system_level):
            self._drop()
            return
        if self.json:
            now = time.time()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            stamp += f".{int(now % 1 * 1000):03d}Z"
            self.write(json.dumps({"time": stamp, "type": f"platform.{kind}", "record": record}))
        else:
            self.write(text)

    def report(self, report: Report) -> None:
        record: dict[str, Any] = {
            "requestId": report.request_id,
            "metrics": report.metrics(),
            "status": report.status,
        }
        if report.error_type:
            record["errorType"] = report.error_type
        if not report.cpu_scaled:
            record["cpu"] = UNSCALED
        self.platform("report", record, report.text())

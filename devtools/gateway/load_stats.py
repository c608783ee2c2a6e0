"""``GET /_local/stats`` on ``make gateway``: what the local Lambda runtime did, for the load
harness (``devtools.load``), which reads it before and after a run.

Aggregated, so that it stays small however long the emulator runs: counters, and per route a
reservoir of at most ``RESERVOIR`` REPORTs (each numbered, so a reader can keep the ones made
after an earlier reading). CPU time is read from ``/proc``: the emulator's threads (the
server's event loop and the Lambda service's), the rest of this process (moto's server and its
request threads, when moto runs here), and the runtime processes of the environments. Answered
to loopback clients only; not an API Gateway path (AWS would answer 404).
"""

from __future__ import annotations

import json
import os
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from devtools.lambda_runtime.journal import Journal
from devtools.lambda_runtime.local_lambda import LocalLambda, Result

PATH = "/_local/stats"
RESERVOIR = 1024
LOOPBACK = {"127.0.0.1", "::1"}
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def route_name(method: str, path: str) -> str:
    """The load harness's name for a request: hi, list, create, get, pay, cancel, delete."""
    parts = path.strip("/").split("/")
    if parts == ["hi"]:
        return "hi"
    if parts == ["orders"]:
        return {"GET": "list", "POST": "create"}.get(method, "other")
    if len(parts) == 2 and parts[0] == "orders":
        return {"GET": "get", "DELETE": "delete"}.get(method, "other")
    if len(parts) == 3 and parts[0] == "orders" and parts[2] in ("pay", "cancel"):
        return parts[2] if method == "POST" else "other"
    return "other"


@dataclass
class _Route:
    count: int = 0
    duration_sum: float = 0.0
    billed_sum: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)


def _cpu_ms(stat: Path) -> float:
    """utime + stime of a /proc ``stat`` file, in ms (0 once the task is gone)."""
    try:
        fields = stat.read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # fields 14 and 15 of proc(5)


class RuntimeStats:
    """Counts what ``service`` did, from each invocation's result (``observe``)."""

    def __init__(self, service: LocalLambda) -> None:
        self.service = service
        self.seq = 0
        self.cold_starts = self.restores = self.throttles = 0
        self.routes: dict[str, _Route] = {}
        self._runtime_cpu: dict[int, float] = {}  # pid → last reading, live environments
        self._retired_cpu = 0.0  # environments that have ended
        self._random = random.Random(0)  # noqa: S311 - reservoir sampling
        self._lock = threading.Lock()

    def observe(self, event: dict[str, Any], result: Result) -> None:
        """One invocation's result (on the gateway's event loop)."""
        http = event.get("requestContext", {}).get("http", {})
        name = route_name(http.get("method", ""), event.get("rawPath", ""))
        with self._lock:
            if result.rejected == "TooManyRequestsException":
                self.throttles += 1
            report = result.report
            if report is None:
                return
            self.seq += 1
            self.cold_starts += report.init_duration_ms is not None
            self.restores += report.restore_duration_ms is not None
            route = self.routes.setdefault(name, _Route())
            route.count += 1
            route.duration_sum += report.duration_ms
            route.billed_sum += report.billed_duration_ms
            sample = {
                "seq": self.seq,
                "duration_ms": round(report.duration_ms, 3),
                "billed_ms": report.billed_duration_ms,
                "max_memory_mb": report.max_memory_used_mb,
                "init_ms": report.init_duration_ms or report.restore_duration_ms,
            }
            if len(route.samples) < RESERVOIR:
                route.samples.append(sample)
            else:  # Algorithm R: each REPORT kept with probability RESERVOIR / count
                slot = self._random.randrange(route.count)
                if slot < RESERVOIR:
                    route.samples[slot] = sample

    def cpu_ms(self) -> dict[str, float]:
        """CPU time so far: the emulator's threads, the rest of this process, the runtimes."""
        own = {t.native_id for t in threading.enumerate() if t.name in ("MainThread", "lambda")}
        emulator = sum(_cpu_ms(Path(f"/proc/self/task/{tid}/stat")) for tid in own if tid)
        process = _cpu_ms(Path("/proc/self/stat"))
        live: dict[int, float] = {}
        for environment in list(self.service.environments):
            if environment.process is not None and environment.process.returncode is None:
                pid = environment.process.pid
                live[pid] = _cpu_ms(Path(f"/proc/{pid}/stat")) or self._runtime_cpu.get(pid, 0.0)
        self._retired_cpu += sum(v for pid, v in self._runtime_cpu.items() if pid not in live)
        self._runtime_cpu = live
        runtime = self._retired_cpu + sum(live.values())
        return {"gateway": emulator, "moto": max(0.0, process - emulator), "runtime": runtime}

    def document(self) -> dict[str, Any]:
        """The reading ``GET /_local/stats`` answers; it restarts the peak's watermark."""
        with self._lock:
            peak = self.service.peak_in_flight
            self.service.peak_in_flight = 0
            return {
                "seq": self.seq,
                "environments_started": self.cold_starts + self.restores,
                "cold_starts": self.cold_starts,
                "restores": self.restores,
                "throttles": self.throttles,
                "peak_environments": peak,
                "reserved_concurrency": self.service.concurrency_limit,
                "reports": {
                    name: {
                        "count": r.count,
                        "duration_sum": r.duration_sum,
                        "billed_sum": r.billed_sum,
                        "samples": list(r.samples),
                    }
                    for name, r in self.routes.items()
                },
                "cpu_ms": self.cpu_ms(),
                "journals": self.journals(),
            }

    def journals(self) -> dict[str, dict[str, int]]:
        """What the runtime keeps of its records: the newest ``kept`` of ``total``, at most
        ``limit`` (``devtools.lambda_runtime.journal``), so a long run stays flat."""
        service = self.service
        kept: dict[str, Journal[Any]] = {
            "reports": service.reports,
            "spans": service.spans,
            "log_lines": service.logs.journal,
            "dynamodb_requests": service.front.journal,
        }
        return {
            name: {"kept": len(journal), "limit": journal.limit, "total": journal.total}
            for name, journal in kept.items()
        }


def with_stats(app: ASGIApp, stats: RuntimeStats) -> ASGIApp:
    """``app`` answering ``GET /_local/stats`` (from a loopback client) with ``stats``."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") or ("", 0)
        if scope["type"] == "http" and scope["path"] == PATH and client[0] in LOOPBACK:
            body = json.dumps(stats.document()).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return serve

"""Handlers that misbehave on purpose: the task root of the local runtime's failure tests.

Copied into a read-only directory and run by the runtime interface client like the app's
handler. What the module does at import (Lambda's init) is chosen by the function's variables.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

if os.environ.get("PROBE_FAIL_INIT"):
    raise RuntimeError("init failed on purpose")
time.sleep(float(os.environ.get("PROBE_INIT_SECONDS", "0")))
if os.environ.get("PROBE_FAIL_RESTORE"):

    def _fail_after_restore() -> None:
        raise RuntimeError("after-restore hook failed on purpose")

    importlib.import_module("snapshot_restore_py").register_after_restore(_fail_after_restore)


def _ok(body: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def echo(event: Any, context: Any) -> dict[str, Any]:
    return _ok(
        {
            "remaining_ms": context.get_remaining_time_in_millis(),
            "arn": context.invoked_function_arn,
        }
    )


def fail(event: Any, context: Any) -> dict[str, Any]:
    raise ValueError("invocation failed on purpose")


def huge(event: Any, context: Any) -> dict[str, Any]:
    return _ok("x" * (7 * 1024 * 1024))  # over the 6 MB response limit


def slow(event: Any, context: Any) -> dict[str, Any]:
    time.sleep(float(os.environ.get("PROBE_SLEEP", "5")))
    return _ok("late")


def sandbox(event: Any, context: Any) -> dict[str, Any]:
    """What the function may write: the task root (read-only on Lambda) and /tmp."""
    outcomes = {}
    for name, directory in (("task_root", os.environ["LAMBDA_TASK_ROOT"]), ("tmp", "/tmp")):
        target = Path(directory) / f"probe-{os.getpid()}"
        try:
            target.write_text("written")
            target.unlink()
            outcomes[name] = "written"
        except OSError as error:
            outcomes[name] = type(error).__name__
    return _ok({"writes": outcomes, "cwd": os.getcwd()})


def burn(event: Any, context: Any) -> dict[str, Any]:
    """Use ``cpu_ms`` of CPU time (the same work whatever else runs); the wall time it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    spins = 0
    while time.process_time() - cpu < event["cpu_ms"] / 1000:
        spins += 1
    cpu_ms = (time.process_time() - cpu) * 1000
    return _ok({"cpu_ms": cpu_ms, "wall_ms": (time.perf_counter() - wall) * 1000})


def burn_in_thread(event: Any, context: Any) -> dict[str, Any]:
    """``burn``'s work on a thread that ends before the response (as FastAPI runs a sync
    route on a worker thread); the CPU time it took."""
    out: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: out.update(burn(event, context)))
    worker.start()
    worker.join()
    return _ok({"cpu_ms": json.loads(out["body"])["cpu_ms"]})


def hog(event: Any, context: Any) -> dict[str, Any]:
    """Hold ``mb`` megabytes (every page written)."""
    held = b"\x01" * (event["mb"] * 1024 * 1024)
    return _ok({"held": len(held)})

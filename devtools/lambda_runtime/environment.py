"""One execution environment: a runtime process and the lifecycle Lambda drives it through.

Init (the process imports the handler), for SnapStart the snapshot (the process waits in
``restore/next``, frozen) and the restore, then invocations one at a time; between them the
process is frozen (SIGSTOP), as Lambda freezes an environment with no pending event. The
Runtime API server (``runtime_api``) calls the ``runtime_*`` methods for the process's
requests; the service (``local_lambda``) calls the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from devtools.lambda_runtime.cgroups import Group
from devtools.lambda_runtime.credentials import IssuedKey, KeyRing
from devtools.lambda_runtime.reports import Logs
from devtools.lambda_runtime.spec import Spec, variables

# "Invocation payload (request and response): 6 MB each for synchronous"; Lambda's error
# message for a response names 6291556 bytes.
MAX_REQUEST_BYTES = 6 * 1024 * 1024
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


class Phase(Enum):
    INIT = "init"
    SNAPSHOT = "snapshot"  # SnapStart: init done, held in restore/next
    RESTORE = "restore"
    READY = "ready"  # waiting in invocation/next
    INVOKE = "invoke"
    DEAD = "dead"


@dataclass
class Ending:
    """How one invocation (or init, or restore) ended."""

    status: str  # "success", "error" or "timeout"
    payload: bytes | None = None  # the response, or the error document
    error_type: str | None = None

    @classmethod
    def error(cls, error_type: str, message: str, status: str = "error") -> Ending:
        document = {"errorMessage": message, "errorType": error_type}
        return cls(status, json.dumps(document).encode(), error_type)


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    trace_id: str
    done: asyncio.Future[Ending]
    delivered: float = 0.0  # monotonic: handed to the runtime
    finished: float = 0.0  # monotonic: response or error posted


class RuntimeRefusal(Exception):
    """A Runtime API request the environment refuses (status and error type for the body)."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


@dataclass
class _Stop:
    """Put in the event queue: answer the waiting ``next`` with an error (the runtime exits)."""


@dataclass
class ExecutionEnvironment:
    """One runtime process. ``start`` spawns it; the futures below track its phases."""

    spec: Spec
    keys: KeyRing
    logs: Logs
    freeze: bool = True
    group: Group | None = None  # its CPU quota and memory limit (cgroups), where the host allows
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    phase: Phase = Phase.INIT
    process: asyncio.subprocess.Process | None = None
    spawned: float = 0.0
    init_ms: float | None = None
    restore_ms: float | None = None
    frozen: bool = False
    peak_memory_mb: int = 0  # the last VmHWM read (a killed process has none left to read)
    stopping: bool = False  # never frozen again: the shutdown must be able to run
    served: int = 0  # invocations handed to it

    def __post_init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.init_done: asyncio.Future[Ending] = loop.create_future()
        self.restore_done: asyncio.Future[Ending] = loop.create_future()
        self.exited: asyncio.Future[int] = loop.create_future()
        self._resume: asyncio.Future[None] = loop.create_future()
        self._events: asyncio.Queue[Invocation | _Stop] = asyncio.Queue()
        self.current: Invocation | None = None
        self.issued: list[IssuedKey] = []  # by the container-credentials endpoint
        self._tasks: list[asyncio.Task[None]] = []

    # --- the service's side -------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.phase is not Phase.DEAD

    async def start(self) -> None:
        """Spawn the runtime process (``python -m awslambdaric <handler>``)."""
        self.spawned = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            *self._command(),
            cwd=self.spec.task_root,
            env=self.variables(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: a terminal's Ctrl-C is not its
        )
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._watch())]

    def _command(self) -> list[str]:
        command = [str(self.spec.python), "-m", "awslambdaric", self.spec.function.handler]
        command = _restricted(command)
        return self.group.command(command) if self.group is not None else command

    @property
    def out_of_memory(self) -> bool:
        """Whether the kernel ended the process for exceeding the memory size."""
        return self.group is not None and self.group.oom_killed()

    def variables(self) -> dict[str, str]:
        """The runtime process's environment (``spec.variables``)."""
        key = None
        if self.spec.init_type != "snap-start":
            key = self.keys.issue(self.spec.environment_key_lifetime, "environment")
        return variables(self.spec, token=self.token, key=key)

    async def wait_init(self, limit: float) -> Ending | None:
        """The init phase's outcome, or None when it did not end within ``limit`` seconds."""
        done, _ = await asyncio.wait({self.init_done}, timeout=limit)
        return self.init_done.result() if done else None

    async def restore(self, limit: float) -> Ending:
        """Answer ``restore/next`` (thawed) and wait for the after-restore hooks to finish."""
        if self.phase is not Phase.SNAPSHOT:
            raise RuntimeError(f"restore in phase {self.phase.value}")
        self.phase = Phase.RESTORE
        started = time.monotonic()
        self._thaw()
        self._resume.set_result(None)
        done, _ = await asyncio.wait({self.restore_done}, timeout=limit)
        if not done:
            await self.kill()
            return Ending.error("Runtime.RestoreTimeout", "restore timed out", "timeout")
        self.restore_ms = (time.monotonic() - started) * 1000
        return self.restore_done.result()

    async def invoke(
        self, request_id: str, payload: bytes, limit: float
    ) -> tuple[Invocation, Ending]:
        """Hand ``payload`` to the waiting runtime; its outcome within ``limit`` seconds (the
        function's timeout)."""
        loop = asyncio.get_running_loop()
        now_ms = int(time.time() * 1000)
        invocation = Invocation(
            request_id=request_id,
            payload=payload,
            deadline_ms=now_ms + int(limit * 1000),
            trace_id=_trace_id(),
            done=loop.create_future(),
        )
        self._thaw()
        self._events.put_nowait(invocation)
        done, _ = await asyncio.wait({invocation.done}, timeout=limit)
        if not done:
            seconds = f"{limit:.2f}"
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            message = f"{stamp} {invocation.request_id} Task timed out after {seconds} seconds"
            self.max_memory_used_mb()  # before the process goes
            await self.kill()  # Lambda resets the environment after a timeout
            outcome = Ending("timeout", json.dumps({"errorMessage": message}).encode())
            outcome.error_type = "Sandbox.Timedout"
            invocation.finished = time.monotonic()
            return invocation, outcome
        return invocation, invocation.done.result()

    def max_memory_used_mb(self) -> int:
        """The process's peak resident memory (VmHWM), in MB rounded up."""
        if self.process is not None:
            try:
                status = Path(f"/proc/{self.process.pid}/status").read_text()
            except OSError:
                status = ""
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_memory_mb = -(-int(line.split()[1]) // 1024)
        return self.peak_memory_mb

    async def stop(self, *, grace: float, how: str = "sigterm") -> int | None:
        """End the process: SIGTERM then SIGKILL after ``grace`` seconds (Lambda's shutdown
        with an extension registered), or ``how="exit"``: the Runtime API refuses the waiting
        ``next`` and the runtime exits by itself. The exit status (negative: a signal)."""
        process = self.process
        self.stopping = True
        if process is not None and process.returncode is None:
            self._thaw()
            if how == "exit":
                self._events.put_nowait(_Stop())
            else:
                process.send_signal(signal.SIGTERM)
            done, _ = await asyncio.wait({self.exited}, timeout=grace)
            if not done:
                self.logs.write(f"[local runtime] no exit {grace:g} s after {how}: SIGKILL")
                process.kill()
        return await self._finish()

    async def kill(self) -> None:
        self.stopping = True
        if self.process is not None and self.process.returncode is None:
            self._thaw()
            self.process.kill()
        await self._finish()

    async def _finish(self) -> int | None:
        if self.process is None:
            return None
        code = await self.process.wait()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return code

    # --- the Runtime API's side (requests from the runtime process) ----------------------

    async def runtime_next(self) -> Invocation:
        """``GET invocation/next``: init, restore or the previous invocation is complete."""
        if self.phase is Phase.INIT:
            self.init_ms = (time.monotonic() - self.spawned) * 1000
            _resolve(self.init_done, Ending("success"))
        elif self.phase is Phase.RESTORE:
            _resolve(self.restore_done, Ending("success"))
        elif self.current is not None and not self.current.done.done():
            raise RuntimeRefusal(403, "InvalidStateTransition", "no response was posted")
        self.phase = Phase.READY
        self.current = None
        if self._events.empty():
            self._freeze()
        event = await self._events.get()
        if isinstance(event, _Stop):
            raise RuntimeRefusal(500, "Runtime.Shutdown", "the environment is shutting down")
        self.phase = Phase.INVOKE
        self.current = event
        event.delivered = time.monotonic()
        return event

    def runtime_response(self, request_id: str, body: bytes) -> None:
        invocation = self._invocation(request_id)
        invocation.finished = time.monotonic()
        self.max_memory_used_mb()  # now: a runtime refused a response exits soon after
        if len(body) > MAX_RESPONSE_BYTES:
            limit = f"{MAX_RESPONSE_BYTES} bytes"
            _resolve(
                invocation.done,
                Ending.error(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size exceeded maximum allowed payload size ({limit}).",
                ),
            )
            raise RuntimeRefusal(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({limit}).",
            )
        _resolve(invocation.done, Ending("success", body))

    def runtime_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        invocation = self._invocation(request_id)
        invocation.finished = time.monotonic()
        self.max_memory_used_mb()
        kind = error_type or _error_type(body) or "Unhandled"
        _resolve(invocation.done, Ending("error", body, kind))

    def runtime_init_error(self, body: bytes, error_type: str | None) -> None:
        if self.phase is not Phase.INIT:
            raise RuntimeRefusal(403, "InvalidStateTransition", "init/error after init")
        self.init_ms = (time.monotonic() - self.spawned) * 1000
        kind = error_type or _error_type(body) or "Runtime.Unknown"
        _resolve(self.init_done, Ending("error", body, kind))

    async def runtime_restore_next(self) -> None:
        """``GET restore/next``: init and the before-snapshot hooks are done; the snapshot is
        taken (the process frozen) and the call returns when the service restores it."""
        if self.spec.init_type != "snap-start" or self.phase is not Phase.INIT:
            raise RuntimeRefusal(403, "InvalidStateTransition", "not a SnapStart init")
        self.init_ms = (time.monotonic() - self.spawned) * 1000
        self.phase = Phase.SNAPSHOT
        _resolve(self.init_done, Ending("success"))
        self._freeze()
        await self._resume
        if self.phase is Phase.DEAD:
            raise RuntimeRefusal(500, "Runtime.Shutdown", "the environment is shutting down")

    def runtime_restore_error(self, body: bytes, error_type: str | None) -> None:
        if self.phase is not Phase.RESTORE:
            raise RuntimeRefusal(403, "InvalidStateTransition", "restore/error outside restore")
        kind = error_type or _error_type(body) or "Runtime.AfterRestoreError"
        _resolve(self.restore_done, Ending("error", body, kind))

    def runtime_credentials(self, authorization: str | None) -> IssuedKey:
        """The container-credentials endpoint (SnapStart): new short-lived keys per call."""
        if self.spec.init_type != "snap-start":
            raise RuntimeRefusal(404, "NotFound", "no container credentials for this function")
        if not authorization or not secrets.compare_digest(authorization, self.token):
            raise RuntimeRefusal(401, "Unauthorized", "missing or wrong authorization token")
        key = self.keys.issue(self.spec.container_key_lifetime, "container")
        self.issued.append(key)
        return key

    def _invocation(self, request_id: str) -> Invocation:
        current = self.current
        if current is None or current.request_id != request_id or current.done.done():
            raise RuntimeRefusal(400, "InvalidRequestID", f"unknown request id {request_id}")
        return current

    # --- the process ----------------------------------------------------------------------

    def _freeze(self) -> None:
        if not self.freeze or self.frozen or self.stopping:
            return
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGSTOP)
            self.frozen = True

    def _thaw(self) -> None:
        if self.frozen and self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    async def _pump(self) -> None:
        assert self.process is not None  # noqa: S101
        assert self.process.stdout is not None  # noqa: S101
        while line := await self.process.stdout.readline():
            self.logs.function(line.decode(errors="replace").rstrip("\r\n"))

    async def _watch(self) -> None:
        assert self.process is not None  # noqa: S101
        code = await self.process.wait()
        phase, self.phase = self.phase, Phase.DEAD
        self.frozen = False
        if code == -signal.SIGKILL and self.out_of_memory:
            # As Lambda reports an environment over its memory size (its runtime's Go wording).
            self.peak_memory_mb = self.spec.function.memory_mb
            exited = Ending.error(
                "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"
            )
        else:
            message = f"Runtime exited with error: {_status(code)}"
            exited = Ending.error("Runtime.ExitError", message)
        if self.group is not None:
            self.group.remove()
        _resolve(self.init_done, exited)
        if phase is Phase.RESTORE:
            _resolve(self.restore_done, exited)
        if self.current is not None:
            _resolve(self.current.done, exited)
        _resolve(self._resume, None)
        self._events.put_nowait(_Stop())  # a ``next`` still held gets its answer
        _resolve(self.exited, code)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _status(code: int) -> str:
    return f"signal: {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def _error_type(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    kind = document.get("errorType") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) and kind else None


def _trace_id() -> str:
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    return f"Root={root};Parent={secrets.token_hex(8)};Sampled=0;Lineage=1:{secrets.token_hex(4)}:0"


def _restricted(command: list[str]) -> list[str]:
    """``command``, ended with the service that started it (SIGKILL if it dies without
    stopping it) and, as root, without root's power to write anywhere: Lambda's runtime is
    not root, and a root process would ignore the task root's read-only permissions."""
    setpriv = shutil.which("setpriv")  # util-linux, on every usual Linux
    if setpriv is None:
        return command
    options = ["--pdeathsig", "KILL"]
    if os.geteuid() == 0:
        dropped = "-dac_override,-dac_read_search"
        options += [f"--inh-caps={dropped}", f"--bounding-set={dropped}"]
    return [setpriv, *options, *command]

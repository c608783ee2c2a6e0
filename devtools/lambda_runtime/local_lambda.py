"""The Lambda service for one function, locally: ``LocalLambda``.

It runs on a thread of its own (with its own event loop): the Runtime API and credentials
endpoint, the DynamoDB front, the execution environment and its lifecycle. Invocations are
synchronous (RequestResponse), one at a time on one environment; concurrent ones queue.

SnapStart (``init_type="snap-start"``): ``start`` publishes the version (init and the
before-snapshot hooks run; an init error fails the publication, as ``cdk deploy`` would).
The first invocation restores the snapshot: every key handed out so far expires, every
connection to the DynamoDB front is cut, then the after-restore hooks run. On-demand: the
first invocation starts the environment (10 s init limit; on a timeout Lambda retries the init
within the invocation, with the function's timeout).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.credentials import KeyRing
from devtools.lambda_runtime.dynamodb_front import DynamoDBFront
from devtools.lambda_runtime.environment import (
    MAX_REQUEST_BYTES,
    Ending,
    ExecutionEnvironment,
    Phase,
)
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.reports import RUNTIME_VERSION, Logs, Report
from devtools.lambda_runtime.runtime_api import runtime_api
from devtools.lambda_runtime.serving import LocalServer
from devtools.lambda_runtime.spec import VERSION, Spec

T = TypeVar("T")
INIT_LIMIT = 10.0  # on-demand init phase (lambda-runtime-environment)
SNAPSTART_INIT_MINIMUM = 130.0  # SnapStart init: 130 s or the function's timeout if longer
RESTORE_LIMIT = 10.0
SHUTDOWN_GRACE = 2.0  # the Shutdown phase with an external extension registered


@dataclass(frozen=True)
class Result:
    """What the Invoke API answers: the function's response, or its error."""

    payload: bytes | None  # the response document (or the error document)
    function_error: str | None = None  # X-Amz-Function-Error ("Unhandled") on a function error
    rejected: str | None = None  # the Invoke API's own error (e.g. RequestEntityTooLarge...)
    status_code: int = 200  # the Invoke API's HTTP status
    report: Report | None = None

    def document(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class PublishError(RuntimeError):
    """SnapStart could not publish the version: its init failed (``cdk deploy`` would fail)."""

    def __init__(self, outcome: Ending) -> None:
        super().__init__(f"init failed: {(outcome.payload or b'').decode(errors='replace')}")
        self.outcome = outcome


@dataclass
class LocalLambda:
    """One function behind the Lambda service, served by a real runtime process.

    ``dynamodb_upstream`` is the DynamoDB-compatible server (moto) the front forwards to;
    the function reaches the front through ``AWS_ENDPOINT_URL_DYNAMODB``.
    """

    function: FunctionConfig
    dynamodb_upstream: str
    init_type: str = "snap-start"
    region: str = "us-east-1"
    task_root: Path | None = None
    python: Path | None = None
    freeze: bool = True
    container_key_lifetime: float = 3600.0
    environment_key_lifetime: float = 12 * 3600.0
    front_keep_alive: float = 5.0  # idle connections to DynamoDB are closed after this
    init_limit: float = INIT_LIMIT
    shutdown_grace: float = SHUTDOWN_GRACE
    echo: Callable[[str], None] | None = None
    keys: KeyRing = field(default_factory=KeyRing)
    reports: list[Report] = field(default_factory=list)
    environments: list[ExecutionEnvironment] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.init_type not in ("snap-start", "on-demand"):
            raise ValueError(f"init_type must be snap-start or on-demand, not {self.init_type}")
        self.logs = Logs(self.function.log_format, self.echo)
        self.front = DynamoDBFront(self.keys, self.dynamodb_upstream)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lambda", daemon=True)
        self._lock: asyncio.Lock | None = None
        self._environment: ExecutionEnvironment | None = None
        self._runtime_api = LocalServer(runtime_api(lambda: self._environment), keep_alive=3600)
        self._front_server = LocalServer(self.front, keep_alive=self.front_keep_alive)

    # --- from any thread ------------------------------------------------------------------

    def start(self) -> None:
        """Start the service; with SnapStart, publish (init and snapshot) the version."""
        self.task_root = self.task_root or artifacts.task_root()
        self.python = self.python or artifacts.runtime_python()
        self._thread.start()
        self.call(self._start())

    def stop(self, how: str = "sigterm") -> int | None:
        """Shut the environment down (``how``: see ``ExecutionEnvironment.stop``) and the
        servers; the runtime's exit status."""
        if self._loop.is_closed():
            return None
        if not self._thread.is_alive():  # never started
            self._loop.run_until_complete(self._stop(how))
            self._loop.close()
            return None
        try:
            return self.call(self._stop(how))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def invoke(self, event: Any) -> Result:
        """Invoke synchronously with ``event`` (a JSON document, or bytes) and wait."""
        return self.call(self._serialized(event))

    async def invoke_async(self, event: Any) -> Result:
        """``invoke`` for a coroutine on another event loop (e.g. the gateway's). Cancelling
        the caller (an integration timeout) leaves the invocation running, as on Lambda."""
        running = asyncio.run_coroutine_threadsafe(self._serialized(event), self._loop)
        return await asyncio.shield(asyncio.wrap_future(running))

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the service's loop and wait for it (not from that loop)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def environment(self) -> ExecutionEnvironment | None:
        return self._environment

    @property
    def front_url(self) -> str:
        return self._front_server.url

    def front_connections(self) -> int:
        return self._front_server.open_connections()

    def drop_front_connections(self) -> int:
        return self.call(self._drop())

    # --- on the service's loop -----------------------------------------------------------

    async def _start(self) -> None:
        self._lock = asyncio.Lock()
        await self._runtime_api.start()
        await self._front_server.start()
        if self.init_type == "snap-start":
            outcome = await self._publish()
            if outcome.status != "success":
                raise PublishError(outcome)

    async def _stop(self, how: str) -> int | None:
        code = None
        if self._environment is not None:
            code = await self._environment.stop(grace=self.shutdown_grace, how=how)
        await self._runtime_api.stop()
        await self._front_server.stop()
        await self.front.aclose()
        return code

    async def _drop(self) -> int:
        return self._front_server.drop_connections()

    async def _serialized(self, event: Any) -> Result:
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        assert self._lock is not None  # noqa: S101 - started
        if len(payload) > MAX_REQUEST_BYTES:
            message = (
                f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the Invoke operation"
            )
            document = {"Type": "User", "message": message}
            return Result(
                json.dumps(document).encode(), None, "RequestEntityTooLargeException", 413
            )
        async with self._lock:
            return await self._invocation(payload)

    async def _invocation(self, payload: bytes) -> Result:
        init_ms = restore_ms = None
        environment = self._environment
        if environment is None or not environment.alive:
            if self.init_type == "snap-start":
                outcome = await self._publish()  # the snapshot is gone with its process
                if outcome.status != "success":
                    return self._failed(outcome, None, None)
            else:
                outcome = await self._cold_start()
                environment = self._environment
                assert environment is not None  # noqa: S101
                init_ms = environment.init_ms
                if outcome.status != "success":
                    return self._failed(outcome, init_ms, None)
        environment = self._environment
        assert environment is not None  # noqa: S101
        if environment.phase is Phase.SNAPSHOT:
            outcome = await self._restore(environment)
            restore_ms = environment.restore_ms
            if outcome.status == "timeout":  # the after-restore hooks took over 10 s
                document = {"Type": "User", "message": "SnapStart restore timed out"}
                return Result(json.dumps(document).encode(), None, "SnapStartTimeoutException", 408)
            if outcome.status != "success":
                document = {"Type": "User", "message": "an after-restore hook failed"}
                return Result(json.dumps(document).encode(), None, "SnapStartException", 400)
        request_id = str(uuid.uuid4())
        self.logs.platform(
            "start",
            {"requestId": request_id, "version": VERSION},
            f"START RequestId: {request_id} Version: {VERSION}",
        )
        invocation, outcome = await environment.invoke(request_id, payload, self.function.timeout)
        finished = invocation.finished or time.monotonic()
        duration = (finished - (invocation.delivered or finished)) * 1000
        report = Report(
            request_id=invocation.request_id,
            duration_ms=duration,
            memory_size_mb=self.function.memory_mb,
            max_memory_used_mb=environment.max_memory_used_mb(),
            status=outcome.status,
            error_type=outcome.error_type if outcome.status != "success" else None,
            init_duration_ms=init_ms,
            restore_duration_ms=restore_ms,
        )
        return self._reported(outcome, report)

    async def _publish(self) -> Ending:
        """SnapStart: a new environment through init and the before-snapshot hooks."""
        environment = await self._spawn()
        self.logs.platform(*_init_start(self, "snap-start"))
        limit = max(SNAPSTART_INIT_MINIMUM, self.function.timeout)
        outcome = await environment.wait_init(limit) or await self._init_timed_out(environment)
        self._init_report(environment, outcome)
        return outcome

    async def _cold_start(self) -> Ending:
        """On-demand: a new environment through init; after a timeout, one more try within
        the function's timeout (as Lambda retries a timed-out init at the first invocation)."""
        for limit in (self.init_limit, self.function.timeout):
            environment = await self._spawn()
            self.logs.platform(*_init_start(self, "on-demand"))
            outcome = await environment.wait_init(limit) or await self._init_timed_out(environment)
            if outcome.status != "success" or environment.init_ms is None:
                self._init_report(environment, outcome)
            if outcome.status != "timeout":
                return outcome
        return outcome

    async def _init_timed_out(self, environment: ExecutionEnvironment) -> Ending:
        await environment.kill()
        return Ending.error("Sandbox.Timedout", "INIT phase timed out", "timeout")

    async def _restore(self, environment: ExecutionEnvironment) -> Ending:
        """Restore the snapshot: the snapshot's keys expire and its connections are cut."""
        self.logs.platform("restoreStart", {"runtimeVersion": RUNTIME_VERSION}, "RESTORE_START")
        self.keys.revoke_all()
        self._front_server.drop_connections()
        outcome = await environment.restore(RESTORE_LIMIT)
        record: dict[str, Any] = {"status": outcome.status}
        if environment.restore_ms is not None:
            record["metrics"] = {"durationMs": round(environment.restore_ms, 2)}
        if outcome.error_type:
            record["errorType"] = outcome.error_type
        self.logs.platform("restoreReport", record, f"RESTORE_REPORT Status: {outcome.status}")
        return outcome

    async def _spawn(self) -> ExecutionEnvironment:
        if self._environment is not None and self._environment.alive:
            await self._environment.kill()
        assert self.task_root is not None  # noqa: S101
        assert self.python is not None  # noqa: S101
        spec = Spec(
            function=self.function,
            init_type=self.init_type,
            python=self.python,
            runtime_dir=artifacts.site_packages(self.python),
            task_root=self.task_root,
            region=self.region,
            runtime_api=self._runtime_api.address,
            local_variables={"AWS_ENDPOINT_URL_DYNAMODB": self._front_server.url},
            environment_key_lifetime=self.environment_key_lifetime,
            container_key_lifetime=self.container_key_lifetime,
        )
        environment = ExecutionEnvironment(spec, self.keys, self.logs, freeze=self.freeze)
        self._environment = environment
        self.environments.append(environment)
        await environment.start()
        return environment

    def _init_report(self, environment: ExecutionEnvironment, outcome: Ending) -> None:
        duration = environment.init_ms or (time.monotonic() - environment.spawned) * 1000
        record: dict[str, Any] = {
            "initializationType": self.init_type,
            "phase": "init",
            "status": outcome.status,
            "metrics": {"durationMs": round(duration, 2)},
        }
        text = (
            f"INIT_REPORT Init Duration: {duration:.2f} ms\tPhase: init\tStatus: {outcome.status}"
        )
        if outcome.error_type:
            record["errorType"] = outcome.error_type
            text += f"\tError Type: {outcome.error_type}"
        self.logs.platform("initReport", record, text)

    def _failed(self, outcome: Ending, init_ms: float | None, restore_ms: float | None) -> Result:
        """An invocation that never reached the handler: its init failed."""
        report = Report(
            request_id=str(uuid.uuid4()),
            duration_ms=0.0,
            memory_size_mb=self.function.memory_mb,
            max_memory_used_mb=0,
            status="error",
            error_type=outcome.error_type,
            init_duration_ms=init_ms,
            restore_duration_ms=restore_ms,
        )
        return self._reported(outcome, report)

    def _reported(self, outcome: Ending, report: Report) -> Result:
        self.reports.append(report)
        if not self.logs.json:
            self.logs.write(f"END RequestId: {report.request_id}")
        self.logs.report(report)
        if outcome.status == "success":
            return Result(outcome.payload, report=report)
        return Result(outcome.payload, function_error="Unhandled", report=report)


def _init_start(service: LocalLambda, init_type: str) -> tuple[str, dict[str, Any], str]:
    record = {
        "initializationType": init_type,
        "phase": "init",
        "runtimeVersion": RUNTIME_VERSION,
        "functionName": service.function.name,
        "functionVersion": VERSION,
    }
    return "initStart", record, f"INIT_START Runtime Version: {RUNTIME_VERSION}"

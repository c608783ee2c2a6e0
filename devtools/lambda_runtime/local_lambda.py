"""The Lambda service for one function, locally: ``LocalLambda``.

It runs on a thread of its own (with its own event loop): the DynamoDB front and the
execution environments, each with its own Runtime API and credentials endpoint, and their
lifecycle. Invocations are synchronous (RequestResponse). As on Lambda, each environment serves
one invocation at a time: an invocation takes an idle environment, or starts a new one while
fewer than the function's reserved concurrency (from the template; ``concurrency`` overrides
it) are in use, and beyond that is throttled (``TooManyRequestsException``, 429), which API
Gateway answers with a 500.

SnapStart (``init_type="snap-start"``): ``start`` publishes the version (init and the
before-snapshot hooks run; an init error fails the publication, as ``cdk deploy`` would).
A new environment restores the snapshot: the keys its process took before the snapshot expire,
its connections to the DynamoDB front are cut, then the after-restore hooks run. Locally there
is no snapshot to copy, so each further environment runs init in a process of its own first
(not reported: on Lambda it is a restore). On-demand: a new environment runs init (10 s limit;
on a timeout Lambda retries the init within the invocation, with the function's timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from devtools.lambda_runtime import artifacts
from devtools.lambda_runtime.cgroups import Cgroups
from devtools.lambda_runtime.credentials import KeyRing
from devtools.lambda_runtime.dynamodb_front import DynamoDBFront
from devtools.lambda_runtime.environment import (
    MAX_REQUEST_BYTES,
    Ending,
    ExecutionEnvironment,
    Phase,
)
from devtools.lambda_runtime.function import FunctionConfig
from devtools.lambda_runtime.journal import Journal
from devtools.lambda_runtime.reports import RUNTIME_VERSION, UNSCALED, Logs, Report
from devtools.lambda_runtime.runtime_api import runtime_api
from devtools.lambda_runtime.serving import LocalServer
from devtools.lambda_runtime.spec import VERSION, Spec

T = TypeVar("T")
INIT_LIMIT = 10.0  # on-demand init phase (lambda-runtime-environment)
SNAPSTART_INIT_MINIMUM = 130.0  # SnapStart init: 130 s or the function's timeout if longer
RESTORE_LIMIT = 10.0
SHUTDOWN_GRACE = 2.0  # the Shutdown phase with an external extension registered
UNRESERVED_CONCURRENCY = 1000  # an account's default concurrency quota
THROTTLED = {
    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    "Type": "User",
    "message": "Rate Exceeded.",
}


@dataclass(frozen=True)
class Span:
    """When one invocation ran (monotonic seconds), and in which environment (its index)."""

    environment: int
    delivered: float
    finished: float


@dataclass(frozen=True)
class Result:
    """What the Invoke API answers: the function's response, or its error."""

    payload: bytes | None  # the response document (or the error document)
    function_error: str | None = None  # X-Amz-Function-Error ("Unhandled") on a function error
    rejected: str | None = None  # the Invoke API's own error (e.g. RequestEntityTooLarge...)
    status_code: int = 200  # the Invoke API's HTTP status
    report: Report | None = None
    environment: int | None = None  # which environment ran it (its index)

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
    concurrency: int | None = None  # default: the function's reserved concurrency
    memory_mb: int | None = None  # default: the function's memory size
    scale_cpu: bool = False  # each environment gets the CPU share its memory size buys
    limit_memory: bool = True  # an environment over its memory size is ended
    keys: KeyRing = field(default_factory=KeyRing)
    reports: Journal[Report] = field(default_factory=Journal)  # the newest, bounded
    environments: list[ExecutionEnvironment] = field(default_factory=list)
    spans: Journal[Span] = field(default_factory=Journal)
    throttles: int = 0
    peak_in_flight: int = 0  # most invocations in environments at once (readers may reset it)

    def __post_init__(self) -> None:
        if self.init_type not in ("snap-start", "on-demand"):
            raise ValueError(f"init_type must be snap-start or on-demand, not {self.init_type}")
        if self.memory_mb is not None:
            self.function = self.function.replace(memory_mb=self.memory_mb)
        self.cgroups: Cgroups | None = None  # made at the start (leftovers of dead runs go)
        self.logs = Logs(
            self.function.log_format,
            self.echo,
            application_level=self.function.application_log_level,
            system_level=self.function.system_log_level,
        )
        self.front = DynamoDBFront(self.keys, self.dynamodb_upstream)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lambda", daemon=True)
        self._environment: ExecutionEnvironment | None = None  # the newest
        self._idle: list[ExecutionEnvironment] = []
        self._in_flight = 0
        # For tools in this process; each environment gets a front (and Runtime API) of its own.
        self._front_server = LocalServer(self.front, keep_alive=self.front_keep_alive)
        self._servers: list[tuple[LocalServer, LocalServer]] = []  # per environment

    # --- from any thread ------------------------------------------------------------------

    def start(self) -> None:
        """Start the service; with SnapStart, publish (init and snapshot) the version."""
        self.task_root = self.task_root or artifacts.task_root()
        self.python = self.python or artifacts.runtime_python()
        self.cgroups = Cgroups(scale_cpu=self.scale_cpu, limit_memory=self.limit_memory)
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

    def kill_now(self) -> None:
        """SIGKILL every environment's process, from any thread (even a signal handler), for
        an exit that cannot wait for ``stop``."""
        for environment in self.environments:
            process = environment.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)

    def invoke(self, event: Any) -> Result:
        """Invoke synchronously with ``event`` (a JSON document, or bytes) and wait."""
        return self.call(self._invocation(event))

    async def invoke_async(self, event: Any) -> Result:
        """``invoke`` for a coroutine on another event loop (e.g. the gateway's). Cancelling
        the caller (an integration timeout) leaves the invocation running, as on Lambda."""
        running = asyncio.run_coroutine_threadsafe(self._invocation(event), self._loop)
        return await asyncio.shield(asyncio.wrap_future(running))

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the service's loop and wait for it (not from that loop)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @property
    def environment(self) -> ExecutionEnvironment | None:
        """The environment started last."""
        return self._environment

    @property
    def concurrency_limit(self) -> int:
        """How many invocations may run at once (a reservation of 0 throttles every one)."""
        for limit in (self.concurrency, self.function.reserved_concurrency):
            if limit is not None:
                return limit
        return UNRESERVED_CONCURRENCY

    @property
    def cpu_scaled(self) -> bool:
        """Whether the environments run at the CPU share of their memory size (started only)."""
        return self.cgroups is not None and self.cgroups.cpu_scaled

    def describe_limits(self) -> str:
        """One line: each environment's CPU share and memory limit, or why there are none."""
        cgroups = self.cgroups or Cgroups(scale_cpu=self.scale_cpu, limit_memory=self.limit_memory)
        return cgroups.describe(self.function.memory_mb)

    @property
    def front_url(self) -> str:
        return self._front_server.url

    def front_connections(self) -> int:
        fronts = [self._front_server, *(front for _, front in self._servers)]
        return sum(front.open_connections() for front in fronts)

    def drop_front_connections(self) -> int:
        return self.call(self._drop())

    # --- on the service's loop -----------------------------------------------------------

    async def _start(self) -> None:
        self.front.open()
        await self._front_server.start()
        if self.init_type == "snap-start":
            outcome = await self._publish()
            if outcome.status != "success":
                raise PublishError(outcome)
            assert self._environment is not None  # noqa: S101
            self._idle.append(self._environment)

    async def _stop(self, how: str) -> int | None:
        # All at once: each server takes a few tenths of a second to stop (uvicorn's loop
        # ticks), ~40 s for 100 environments one after another.
        count = len(self.environments)
        stops = [self._stop_one(i, how) for i in range(count)]
        spare = [s for pair in self._servers[count:] for s in pair]  # a spawn that failed
        servers = [server.stop() for server in [self._front_server, *spare]]
        codes = (await asyncio.gather(*stops, *servers))[:count]
        if self.cgroups is not None:
            self.cgroups.close()
        await self.front.aclose()
        return codes[-1] if codes else None

    async def _stop_one(self, index: int, how: str) -> int | None:
        """One environment (SIGTERM, SIGKILL after the grace), then its two servers."""
        code = await self.environments[index].stop(grace=self.shutdown_grace, how=how)
        if index < len(self._servers):
            await asyncio.gather(*(server.stop() for server in self._servers[index]))
        return code

    async def _drop(self) -> int:
        fronts = [self._front_server, *(front for _, front in self._servers)]
        return sum(front.drop_connections() for front in fronts)

    async def _invocation(self, event: Any) -> Result:
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        if len(payload) > MAX_REQUEST_BYTES:
            message = (
                f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the Invoke operation"
            )
            document = {"Type": "User", "message": message}
            return Result(
                json.dumps(document).encode(), None, "RequestEntityTooLargeException", 413
            )
        if self._in_flight >= self.concurrency_limit:
            self.throttles += 1
            return Result(json.dumps(THROTTLED).encode(), None, "TooManyRequestsException", 429)
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            return await self._in_an_environment(payload)
        finally:
            self._in_flight -= 1

    def _index(self, environment: ExecutionEnvironment) -> int:
        return next(i for i, known in enumerate(self.environments) if known is environment)

    def _take_idle(self) -> ExecutionEnvironment | None:
        while self._idle:
            environment = self._idle.pop()  # the most recently used: warm
            if environment.alive:
                return environment
        return None

    async def _in_an_environment(self, payload: bytes) -> Result:
        environment = self._take_idle()
        if environment is None:
            outcome, environment = await self._new_environment()
            if outcome.status != "success":
                init_ms = environment.init_ms if self.init_type == "on-demand" else None
                return self._failed(outcome, init_ms, None)
        try:
            return await self._run(environment, payload)
        finally:
            if environment.alive:
                self._idle.append(environment)

    async def _new_environment(self) -> tuple[Ending, ExecutionEnvironment]:
        if self.init_type == "on-demand":
            return await self._cold_start()
        environment = await self._spawn()  # stands in for the snapshot a restore loads
        limit = max(SNAPSTART_INIT_MINIMUM, self.function.timeout)
        outcome = await environment.wait_init(limit) or await self._init_timed_out(environment)
        if outcome.status != "success":
            self._init_report(environment, outcome)
        return outcome, environment

    async def _run(self, environment: ExecutionEnvironment, payload: bytes) -> Result:
        init_ms = restore_ms = None
        if self.init_type == "on-demand" and not environment.served:
            init_ms = environment.init_ms
        if environment.phase is Phase.SNAPSHOT:
            outcome = await self._restore(environment)
            restore_ms = environment.restore_ms
            if outcome.status == "timeout":  # the after-restore hooks took over 10 s
                document = {"Type": "User", "message": "SnapStart restore timed out"}
                return Result(json.dumps(document).encode(), None, "SnapStartTimeoutException", 408)
            if outcome.status != "success":
                await environment.kill()  # Lambda discards an environment whose restore failed
                document = {"Type": "User", "message": "an after-restore hook failed"}
                return Result(json.dumps(document).encode(), None, "SnapStartException", 400)
        request_id = str(uuid.uuid4())
        self.logs.platform(
            "start",
            {"requestId": request_id, "version": VERSION},
            f"START RequestId: {request_id} Version: {VERSION}",
        )
        environment.served += 1
        invocation, outcome = await environment.invoke(request_id, payload, self.function.timeout)
        finished = invocation.finished or time.monotonic()
        self.spans.append(
            Span(self._index(environment), invocation.delivered or finished, finished)
        )
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
            cpu_scaled=self.cpu_scaled,
        )
        return replace(self._reported(outcome, report), environment=self._index(environment))

    async def _publish(self) -> Ending:
        """SnapStart: a new environment through init and the before-snapshot hooks."""
        environment = await self._spawn()
        self.logs.platform(*_init_start(self, "snap-start"))
        limit = max(SNAPSTART_INIT_MINIMUM, self.function.timeout)
        outcome = await environment.wait_init(limit) or await self._init_timed_out(environment)
        self._init_report(environment, outcome)
        return outcome

    async def _cold_start(self) -> tuple[Ending, ExecutionEnvironment]:
        """On-demand: a new environment through init; after a timeout, one more try within
        the function's timeout (as Lambda retries a timed-out init at the first invocation)."""
        for limit in (self.init_limit, self.function.timeout):
            environment = await self._spawn()
            self.logs.platform(*_init_start(self, "on-demand"))
            outcome = await environment.wait_init(limit) or await self._init_timed_out(environment)
            if outcome.status != "success" or environment.init_ms is None:
                self._init_report(environment, outcome)
            if outcome.status != "timeout":
                return outcome, environment
        return outcome, environment

    async def _init_timed_out(self, environment: ExecutionEnvironment) -> Ending:
        await environment.kill()
        return Ending.error("Sandbox.Timedout", "INIT phase timed out", "timeout")

    async def _restore(self, environment: ExecutionEnvironment) -> Ending:
        """Restore the snapshot: the snapshot's keys expire and its connections are cut."""
        self.logs.platform("restoreStart", {"runtimeVersion": RUNTIME_VERSION}, "RESTORE_START")
        self.keys.revoke(environment.issued)
        _, front = self._servers[self._index(environment)]
        front.drop_connections()
        outcome = await environment.restore(RESTORE_LIMIT)
        record: dict[str, Any] = {"status": outcome.status}
        if environment.restore_ms is not None:
            record["metrics"] = {"durationMs": round(environment.restore_ms, 2)}
        if outcome.error_type:
            record["errorType"] = outcome.error_type
        if not self.cpu_scaled:
            record["cpu"] = UNSCALED
        self.logs.platform("restoreReport", record, f"RESTORE_REPORT Status: {outcome.status}")
        return outcome

    async def _spawn(self) -> ExecutionEnvironment:
        """A new environment's process, with a Runtime API and a DynamoDB front of its own."""
        assert self.task_root is not None  # noqa: S101
        assert self.python is not None  # noqa: S101
        spawned: list[ExecutionEnvironment] = []
        api = LocalServer(runtime_api(lambda: spawned[0] if spawned else None), keep_alive=3600)
        front = LocalServer(self.front, keep_alive=self.front_keep_alive)
        await api.start()
        await front.start()
        self._servers.append((api, front))
        spec = Spec(
            function=self.function,
            init_type=self.init_type,
            python=self.python,
            runtime_dir=artifacts.site_packages(self.python),
            task_root=self.task_root,
            region=self.region,
            runtime_api=api.address,
            local_variables={"AWS_ENDPOINT_URL_DYNAMODB": front.url},
            environment_key_lifetime=self.environment_key_lifetime,
            container_key_lifetime=self.container_key_lifetime,
        )
        group = self.cgroups.group(self.function.memory_mb) if self.cgroups else None
        environment = ExecutionEnvironment(
            spec, self.keys, self.logs, freeze=self.freeze, group=group
        )
        spawned.append(environment)
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
        if not self.cpu_scaled:
            record["cpu"] = UNSCALED
            text += f"\tCPU: {UNSCALED}"
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
            cpu_scaled=self.cpu_scaled,
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

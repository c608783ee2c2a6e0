"""The handler in the gateway's process (``--in-process``): one execution environment on a
thread of its own, and the Lambda context object it is invoked with."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from devtools.gateway.access_log import Served

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The Lambda context object: ids, limits and the time left before the timeout."""

    function_name: str
    memory_limit_in_mb: int
    deadline: float  # time.monotonic() at which the invocation times out
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    served: Served = field(default_factory=Served)  # the integration's note for the access log

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Function:
    """One execution environment: the handler lives on one thread and serves one event at a
    time, like a warm Lambda environment."""

    def __init__(self, factory: Callable[[], Handler]) -> None:
        self._factory = factory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")
        self._lock = asyncio.Lock()
        self.handler: Handler | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.handler = await loop.run_in_executor(self._executor, self._factory)

    async def invoke(self, event: dict[str, Any], context: LambdaContext, limit: float) -> Any:
        """The handler's result; TimeoutError after ``limit`` seconds of running."""
        if self.handler is None:
            raise RuntimeError("Function.start() first")
        # Waiting for the environment is not integration time; a timed-out invocation keeps
        # its environment busy until the handler really returns, as on Lambda.
        await self._lock.acquire()
        loop = asyncio.get_running_loop()
        context.deadline = time.monotonic() + limit
        running = self._executor.submit(self.handler, event, context)
        running.add_done_callback(lambda _: loop.call_soon_threadsafe(self._lock.release))
        return await asyncio.wait_for(asyncio.wrap_future(running), limit)

    async def stop(self) -> None:
        close = getattr(self.handler, "close", None)
        if close is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)

"""The gateway's integration with the local Lambda service (``devtools.lambda_runtime``).

Events go to the runtime process through the Runtime API, as API Gateway's Lambda proxy
integration sends them to Lambda's Invoke API. A function error, or the Invoke API refusing
the request (a payload over 6 MB), becomes ``FunctionError``: the gateway answers 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from devtools.gateway.function import LambdaContext
from devtools.gateway.server import FunctionError
from devtools.lambda_runtime.local_lambda import LocalLambda, Result
from devtools.lambda_runtime.reports import Report

logger = logging.getLogger("devtools.gateway")


class LambdaServiceIntegration:
    """Invokes ``service``; starts and stops it with the gateway unless ``managed=False``;
    ``observe`` (if given) sees each event with its result (``devtools.gateway.load_stats``)."""

    def __init__(
        self,
        service: LocalLambda,
        *,
        managed: bool = True,
        observe: Callable[[dict[str, Any], Result], None] | None = None,
    ) -> None:
        self.service = service
        self.managed = managed
        self.observe = observe

    async def start(self) -> None:
        if self.managed:
            await asyncio.to_thread(self.service.start)

    async def invoke(self, event: dict[str, Any], context: LambdaContext, limit: float) -> Any:
        # The runtime builds its own context from the Runtime API's headers; this one takes
        # the access log's note of where the invocation ran.
        result = await asyncio.wait_for(self.service.invoke_async(event), limit)
        context.served.environment = result.environment
        context.served.start = _start(result.report)
        context.served.throttled = result.rejected == "TooManyRequestsException"
        if self.observe is not None:
            self.observe(event, result)
        if result.rejected:
            raise FunctionError(f"{result.rejected} ({result.status_code})")
        if result.function_error:
            raise FunctionError(f"{result.function_error}: {result.document()}")
        return result.document()

    async def stop(self) -> None:
        if not self.managed:
            return
        count = len(self.service.environments)
        grace = self.service.shutdown_grace
        logger.info(
            "stopping %d environment%s (SIGTERM, SIGKILL after %g s)…",
            count,
            "" if count == 1 else "s",
            grace,
        )
        started = time.monotonic()
        await asyncio.to_thread(self.service.stop)
        logger.info("stopped in %.1f s", time.monotonic() - started)


def _start(report: Report | None) -> str | None:
    """How the environment started for this invocation: it ran init first (on-demand's
    first), restored the snapshot (SnapStart's first), or neither."""
    if report is None:
        return None
    if report.init_duration_ms is not None:
        return "cold"
    return "restore" if report.restore_duration_ms is not None else "warm"

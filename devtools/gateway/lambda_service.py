"""The gateway's integration with the local Lambda service (``devtools.lambda_runtime``).

Events go to the runtime process through the Runtime API, as API Gateway's Lambda proxy
integration sends them to Lambda's Invoke API. A function error, or the Invoke API refusing
the request (a payload over 6 MB), becomes ``FunctionError``: the gateway answers 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from devtools.gateway.server import FunctionError, LambdaContext
from devtools.lambda_runtime.local_lambda import LocalLambda, Result


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
        del context  # the runtime builds its own from the Runtime API's headers
        result = await asyncio.wait_for(self.service.invoke_async(event), limit)
        if self.observe is not None:
            self.observe(event, result)
        if result.rejected:
            raise FunctionError(f"{result.rejected} ({result.status_code})")
        if result.function_error:
            raise FunctionError(f"{result.function_error}: {result.document()}")
        return result.document()

    async def stop(self) -> None:
        if self.managed:
            await asyncio.to_thread(self.service.stop)

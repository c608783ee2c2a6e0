"""The Lambda Runtime API (version 2018-06-01) and the container-credentials endpoint.

The runtime process finds both at ``AWS_LAMBDA_RUNTIME_API`` (host:port), as on Lambda:
``/2018-06-01/runtime/...`` for its lifecycle and ``/2021-04-23/credentials`` (the
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` of a SnapStart function). Each execution environment
has its own (one server per environment, as each Lambda sandbox has its own endpoint).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devtools.lambda_runtime.environment import (
    ExecutionEnvironment,
    RuntimeRefusal,
)

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE = "lambda-runtime-function-error-type"
ACCEPTED = {"status": "OK"}

CurrentEnvironment = Callable[[], ExecutionEnvironment | None]
Endpoint = Callable[[Request, ExecutionEnvironment], Awaitable[Response]]


def runtime_api(current: CurrentEnvironment) -> Starlette:
    """The app serving the environment that ``current()`` returns."""

    def route(path: str, endpoint: Endpoint, method: str) -> Route:
        async def handle(request: Request) -> Response:
            environment = current()
            if environment is None or not environment.alive:
                return _refused(RuntimeRefusal(403, "InvalidStateTransition", "no environment"))
            try:
                return await endpoint(request, environment)
            except RuntimeRefusal as refusal:
                return _refused(refusal)

        return Route(path, handle, methods=[method])

    return Starlette(
        routes=[
            route(f"{PREFIX}/invocation/next", _next, "GET"),
            route(f"{PREFIX}/invocation/{{request_id}}/response", _response, "POST"),
            route(f"{PREFIX}/invocation/{{request_id}}/error", _error, "POST"),
            route(f"{PREFIX}/init/error", _init_error, "POST"),
            route(f"{PREFIX}/restore/next", _restore_next, "GET"),
            route(f"{PREFIX}/restore/error", _restore_error, "POST"),
            route("/2021-04-23/credentials", _credentials, "GET"),
        ]
    )


async def _next(request: Request, environment: ExecutionEnvironment) -> Response:
    invocation = await environment.runtime_next()
    return Response(
        invocation.payload,
        media_type="application/json",
        headers={
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": environment.spec.arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        },
    )


async def _response(request: Request, environment: ExecutionEnvironment) -> Response:
    environment.runtime_response(request.path_params["request_id"], await request.body())
    return JSONResponse(ACCEPTED, status_code=202)


async def _error(request: Request, environment: ExecutionEnvironment) -> Response:
    body = await request.body()
    error_type = request.headers.get(ERROR_TYPE)
    environment.runtime_error(request.path_params["request_id"], body, error_type)
    return JSONResponse(ACCEPTED, status_code=202)


async def _init_error(request: Request, environment: ExecutionEnvironment) -> Response:
    environment.runtime_init_error(await request.body(), request.headers.get(ERROR_TYPE))
    return JSONResponse(ACCEPTED, status_code=202)


async def _restore_next(request: Request, environment: ExecutionEnvironment) -> Response:
    await environment.runtime_restore_next()
    return Response(status_code=200)


async def _restore_error(request: Request, environment: ExecutionEnvironment) -> Response:
    environment.runtime_restore_error(await request.body(), request.headers.get(ERROR_TYPE))
    return JSONResponse(ACCEPTED, status_code=202)


async def _credentials(request: Request, environment: ExecutionEnvironment) -> Response:
    key = environment.runtime_credentials(request.headers.get("authorization"))
    return Response(json.dumps(key.container_credentials()), media_type="application/json")


def _refused(refusal: RuntimeRefusal) -> Response:
    body = {"errorMessage": str(refusal), "errorType": refusal.error_type}
    return JSONResponse(body, status_code=refusal.status)

"""``python -m devtools.gateway [--port 3000]``: the API behind a local API Gateway.

By default the way it runs on AWS: API Gateway emulator → Runtime API → AWS's runtime
interface client → the built asset (``devtools.lambda_runtime``), the function configured from
the synthesized stack, SnapStart's lifecycle and container credentials, orders in moto's
DynamoDB behind a front that checks every request's key. ``--in-process`` serves the handler
in this process instead (settings from the environment, e.g. a SQLite STORE_URL): quicker to
start and easy to debug, but none of Lambda's rules apply.

The authorizer trusts JWT_ISSUER / JWT_AUDIENCE / JWT_JWKS_URL and requires one of JWT_SCOPES;
when JWT_ISSUER is unset, the local development issuer (``make token``). With CORS_ORIGINS set,
the API's CORS configuration (policy: ``app/contract/cors.py``) as the stack's ``cors-origins``
context sets it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import uvicorn
from starlette.types import ASGIApp

from app.aws_lambda.factory import build_handler
from app.config import ConfigError, exit_for, load_settings
from app.contract.environment import env_name
from app.server.interrupt import InterruptibleServer, exit_as_interrupted
from app.server.limits import ServerLimits
from devtools import dev_issuer
from devtools.gateway.authorizer import Authorizer
from devtools.gateway.cors_configuration import CorsConfiguration
from devtools.gateway.knobs import stack_context
from devtools.gateway.options import parse
from devtools.gateway.runtime_python import require_runtime_python
from devtools.gateway.server import (
    INTEGRATION_TIMEOUT,
    KEEP_ALIVE_SECONDS,
    GatewayConfig,
    create_gateway,
)
from devtools.gateway.terminal import (
    default_format,
    function_echo,
    listening_socket,
    logging_config,
)

if TYPE_CHECKING:
    from devtools.lambda_runtime.local_lambda import LocalLambda

LOCAL_TABLE = "orders-local"
# Keys for this process's own calls to moto (creating the table); never the function's.
MOTO_KEYS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def authorizer_from_env() -> Authorizer:
    """The JWT authorizer for JWT_ISSUER..., or the local development issuer."""
    if env_name("jwt_issuer") not in os.environ:
        dev_issuer.signing_key()  # creates the key set on first use
        for name, value in dev_issuer.env().items():
            if name != env_name("identity_mode"):
                os.environ.setdefault(name, value)
    settings = load_settings(identity_mode="gateway")
    if not (settings.jwt_issuer and settings.audiences()):
        raise SystemExit("set JWT_ISSUER and JWT_AUDIENCE (or neither: the development issuer)")
    return Authorizer(
        issuer=settings.jwt_issuer,
        audiences=settings.audiences(),
        jwks_url=settings.jwt_jwks_url,
        scopes=settings.scopes(),
    )


def cors_from_env() -> CorsConfiguration | None:
    """The API's CORS configuration for CORS_ORIGINS, as the stack's ``cors-origins`` sets it."""
    settings = load_settings(identity_mode="gateway")
    return CorsConfiguration(settings.origins()) if settings.cors_origins else None


def gateway_from_env(timeout: float = INTEGRATION_TIMEOUT) -> ASGIApp:
    """The emulator serving the handler in this process, configured from the environment."""
    authorizer = authorizer_from_env()
    settings = load_settings(identity_mode="gateway")
    config = GatewayConfig(
        handler_factory=partial(build_handler, settings),
        authorizer=authorizer,
        timeout=timeout,
        cors=cors_from_env(),
    )
    return create_gateway(config)


def gateway_through_runtime(
    *,
    stage: str,
    init_type: str,
    dynamodb_endpoint: str | None,
    timeout: float,
    echo: Callable[[str], None] | None = None,
    context: dict[str, str] | None = None,
    scale_cpu: bool = True,
) -> tuple[ASGIApp, LocalLambda]:
    """The emulator in front of the local Lambda runtime (see the module docstring), and the
    service; ``echo`` gets the function's log stream (default: stderr). The function is the
    stage's synthesized with ``context`` (``-c`` knobs); ``scale_cpu``: each environment gets
    the CPU share its memory size buys, where the host allows it."""
    from app.store.dynamodb.admin import create_table
    from app.store.dynamodb.config import DynamoDBConfig
    from devtools.gateway.lambda_service import LambdaServiceIntegration
    from devtools.gateway.load_stats import RuntimeStats, with_stats
    from devtools.gateway.throttle import StageThrottle
    from devtools.lambda_runtime import artifacts
    from devtools.lambda_runtime.function import FunctionConfig, synthesized_template, table_ids
    from devtools.lambda_runtime.local_lambda import LocalLambda

    authorizer = authorizer_from_env()
    for name, value in MOTO_KEYS.items():
        os.environ.setdefault(name, value)
    region = os.environ.setdefault("AWS_REGION", "us-east-1")
    if dynamodb_endpoint is None:
        from devtools.moto_server import SerializedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
        moto = SerializedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        dynamodb_endpoint = f"http://{host}:{port}"
        print(f"moto's DynamoDB (in memory) on {dynamodb_endpoint}", file=sys.stderr)
    # moto's first request loads its DynamoDB backend: slow on a busy machine.
    table = DynamoDBConfig(
        table=LOCAL_TABLE, region=region, endpoint=dynamodb_endpoint, read_timeout=25
    )
    asyncio.run(create_table(table))
    say = partial(print, file=sys.stderr, flush=True)
    template = synthesized_template(stage, context=context, announce=say)
    (table_id,) = table_ids(template)
    function = FunctionConfig.from_template(template, names={table_id: LOCAL_TABLE})
    service = LocalLambda(
        function,
        dynamodb_endpoint,
        init_type=init_type,
        region=region,
        echo=echo or say,
        task_root=artifacts.task_root(announce=say),
        python=artifacts.runtime_python(announce=say),
        scale_cpu=scale_cpu,
    )
    stats = RuntimeStats(service)  # GET /_local/stats, for `make load`
    integration = LambdaServiceIntegration(service, observe=stats.observe)
    throttle = StageThrottle.from_template(template)
    say(f"{stage} stage: {throttle.describe()}; reserved concurrency {service.concurrency_limit}")
    say(f"{function.memory_mb} MB: {service.describe_limits()}")
    config = GatewayConfig(
        integration=integration,
        authorizer=authorizer,
        timeout=timeout,
        cors=cors_from_env(),
        throttle=throttle,
    )
    return with_stats(create_gateway(config), stats), service


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    try:
        context = stack_context(args.context, args.stage)
    except ValueError as error:
        raise SystemExit(f"make gateway: {error}") from None
    if not args.in_process:
        require_runtime_python()
    sock = listening_socket(args.host, args.port)  # before moto starts and a version publishes
    logging_set_up = logging_config(args.log_format or default_format(), args.log_file)
    service = None
    try:
        if args.in_process:
            app = gateway_from_env(args.timeout)
            mode = "the handler in this process"
        else:
            app, service = gateway_through_runtime(
                stage=args.stage,
                init_type=args.init_type,
                dynamodb_endpoint=args.dynamodb_endpoint,
                timeout=args.timeout,
                echo=function_echo,
                context=context,
                scale_cpu=not args.unscaled,
            )
            mode = f"the local Lambda runtime ({args.init_type})"
    except ConfigError as exc:
        exit_for(exc)
    issuer = os.environ[env_name("jwt_issuer")]
    print(
        f"API Gateway emulator on http://{args.host}:{args.port} → {mode}; JWT issuer {issuer}",
        flush=True,
    )
    # Ctrl-C: in-flight requests get the server's drain time, then the function shuts down
    # (every environment at once); a second Ctrl-C kills the environments and exits now.
    config = uvicorn.Config(
        app,
        log_level="info",
        log_config=logging_set_up,
        access_log=False,  # the gateway's own access log (access_log.py) replaces uvicorn's
        timeout_graceful_shutdown=ServerLimits().drain_timeout,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = InterruptibleServer(config, on_force_exit=service.kill_now if service else None)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # Drained and shut down: the interpreter's teardown (seconds of garbage collection
        # with moto and the CDK's libraries loaded) would only delay the exit.
        exit_as_interrupted()
    if not server.started:
        sys.exit(3)  # uvicorn's status for a failed startup


if __name__ == "__main__":
    main()

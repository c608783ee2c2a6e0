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

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from app.aws_lambda.factory import build_handler
from app.config import ConfigError, exit_for, load_settings
from app.contract.environment import env_name
from app.server.limits import ServerLimits, log_config
from devtools import dev_issuer
from devtools.gateway.authorizer import Authorizer
from devtools.gateway.cors_configuration import CorsConfiguration
from devtools.gateway.server import (
    INTEGRATION_TIMEOUT,
    KEEP_ALIVE_SECONDS,
    GatewayConfig,
    create_gateway,
)
from devtools.lambda_runtime.artifacts import PYTHON_VERSION
from infra.asset import PROJECT_ROOT
from infra.context import StageConfig
from infra.interpreter import PYTHON_ENV, find_python
from infra.uv import find_uv

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


def stack_context(pairs: list[str], stage: str) -> dict[str, str]:
    """``-c key=value`` knobs as ``make synth`` takes them (``CONTEXT``), checked as the stack
    checks them (``infra/context.py``): ValueError says what is wrong."""
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-c {pair}: expected key=value")
        context[key.strip()] = value
    cdk_json = json.loads((PROJECT_ROOT / "cdk.json").read_text()).get("context", {})
    StageConfig.from_context({**cdk_json, **context, "stage": stage}.get)
    return context


def gateway_through_runtime(
    *,
    stage: str,
    init_type: str,
    dynamodb_endpoint: str | None,
    timeout: float,
    context: dict[str, str] | None = None,
    scale_cpu: bool = True,
) -> ASGIApp:
    """The emulator in front of the local Lambda runtime (see the module docstring), the
    function from the stage synthesized with ``context`` (``-c`` knobs); ``scale_cpu``: each
    environment gets the CPU share its memory size buys, where the host allows it."""
    from app.store.dynamodb.admin import create_table
    from app.store.dynamodb.config import DynamoDBConfig
    from devtools.gateway.lambda_service import LambdaServiceIntegration
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
        echo=say,
        task_root=artifacts.task_root(announce=say),
        python=artifacts.runtime_python(announce=say),
        scale_cpu=scale_cpu,
    )
    integration = LambdaServiceIntegration(service)
    throttle = StageThrottle.from_template(template)
    say(f"{stage} stage: {throttle.describe()}; reserved concurrency {service.concurrency_limit}")
    say(f"{function.memory_mb} MB: {service.describe_limits()}")
    return create_gateway(
        GatewayConfig(
            integration=integration,
            authorizer=authorizer,
            timeout=timeout,
            cors=cors_from_env(),
            throttle=throttle,
        )
    )


def require_runtime_python(environ: Mapping[str, str] = os.environ) -> None:
    """Exit with one line, before anything starts, if no CPython of Lambda's runtime version
    (which the local Lambda runtime runs) is on this machine."""
    try:
        find_python(PYTHON_VERSION)
    except RuntimeError:
        raise SystemExit(no_runtime_python(environ)) from None


def no_runtime_python(environ: Mapping[str, str]) -> str:
    """What to do without a CPython 3.13: install one (with uv where uv may download
    interpreters) or serve the handler in this process."""
    version = PYTHON_VERSION
    uv = find_uv(environ)
    # The Makefile forbids uv's implicit downloads and keeps the user's own setting here.
    downloads = environ.get("USER_UV_PYTHON_DOWNLOADS", environ.get("UV_PYTHON_DOWNLOADS", ""))
    if uv and downloads != "never":
        if shutil.which("uv", path=environ.get("PATH")) == uv:
            uv = "uv"
        elif Path(uv).is_relative_to(Path.cwd()):
            uv = str(Path(uv).relative_to(Path.cwd()))
        install = f"run `{uv} python install {version}`"
    else:
        install = (
            f"install python{version} (your OS's package, pyenv) or point ${PYTHON_ENV} at one"
        )
    return (
        f"make gateway: no CPython {version} found (Lambda's runtime, which the function runs "
        f"in; looked at ${PYTHON_ENV}, python{version} on PATH, pyenv, uv's): {install}, or "
        "serve the handler in this process without it: make gateway GATEWAY_ARGS=--in-process"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the API as API Gateway and Lambda would.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=INTEGRATION_TIMEOUT)
    parser.add_argument(
        "--in-process", action="store_true", help="serve the handler in this process"
    )
    parser.add_argument("--init-type", choices=["snap-start", "on-demand"], default="snap-start")
    parser.add_argument("--stage", choices=["dev", "prod"], default="dev")
    parser.add_argument(
        "--dynamodb-endpoint", help="a DynamoDB-compatible server (default: moto, in memory)"
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack knob, as `make synth CONTEXT=...` takes it (e.g. memory-mb=1024)",
    )
    parser.add_argument(
        "--unscaled",
        action="store_true",
        help="run every environment at the host's full CPU, not its memory size's share",
    )
    args = parser.parse_args()
    try:
        context = stack_context(args.context, args.stage)
    except ValueError as error:
        raise SystemExit(f"make gateway: {error}") from None
    if not args.in_process:
        require_runtime_python()
    try:
        if args.in_process:
            app = gateway_from_env(args.timeout)
            mode = "the handler in this process"
        else:
            app = gateway_through_runtime(
                stage=args.stage,
                init_type=args.init_type,
                dynamodb_endpoint=args.dynamodb_endpoint,
                timeout=args.timeout,
                context=context,
                scale_cpu=not args.unscaled,
            )
            mode = f"the local Lambda runtime ({args.init_type})"
    except ConfigError as exc:
        exit_for(exc)
    issuer = os.environ[env_name("jwt_issuer")]
    print(f"API Gateway emulator on http://{args.host}:{args.port} → {mode}; JWT issuer {issuer}")
    # Ctrl-C: in-flight requests get the server's drain time, then the function shuts down.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=log_config("devtools"),
        timeout_graceful_shutdown=ServerLimits().drain_timeout,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


if __name__ == "__main__":
    main()

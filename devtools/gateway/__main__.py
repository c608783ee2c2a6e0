"""``python -m devtools.gateway [--port 3000]``: serve the Lambda handler behind the emulator.

The function's settings come from the environment, as on Lambda (identity from the
authorizer). The authorizer trusts JWT_ISSUER / JWT_AUDIENCE / JWT_JWKS_URL; when JWT_ISSUER
is unset, the local development issuer (``make token``).
"""

from __future__ import annotations

import argparse
import os
from functools import partial

import uvicorn
from starlette.types import ASGIApp

from app.aws_lambda.factory import build_handler
from app.config import ConfigError, env_name, exit_for, load_settings
from app.server.limits import ServerLimits, log_config
from devtools import dev_issuer
from devtools.gateway.authorizer import Authorizer
from devtools.gateway.server import INTEGRATION_TIMEOUT, GatewayConfig, create_gateway


def gateway_from_env(timeout: float = INTEGRATION_TIMEOUT) -> ASGIApp:
    """The emulator configured from the environment (see the module docstring)."""
    if env_name("jwt_issuer") not in os.environ:
        dev_issuer.signing_key()  # creates the key set on first use
        for name, value in dev_issuer.env().items():
            if name != env_name("identity_mode"):
                os.environ.setdefault(name, value)
    settings = load_settings(identity_mode="gateway")
    if not (settings.jwt_issuer and settings.audiences()):
        raise SystemExit("set JWT_ISSUER and JWT_AUDIENCE (or neither: the development issuer)")
    authorizer = Authorizer(
        issuer=settings.jwt_issuer, audiences=settings.audiences(), jwks_url=settings.jwt_jwks_url
    )
    config = GatewayConfig(
        handler_factory=partial(build_handler, settings), authorizer=authorizer, timeout=timeout
    )
    return create_gateway(config)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Lambda handler as API Gateway would.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--timeout", type=float, default=INTEGRATION_TIMEOUT)
    args = parser.parse_args()
    try:
        app = gateway_from_env(args.timeout)
    except ConfigError as exc:
        exit_for(exc)
    issuer = os.environ[env_name("jwt_issuer")]
    print(f"API Gateway emulator on http://{args.host}:{args.port}, JWT issuer {issuer}")
    # Ctrl-C: in-flight requests get the server's drain time, then the function shuts down.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=log_config("devtools"),
        timeout_graceful_shutdown=ServerLimits().drain_timeout,
    )


if __name__ == "__main__":
    main()

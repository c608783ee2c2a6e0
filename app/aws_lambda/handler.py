"""The AWS Lambda entry point: ``app.aws_lambda.handler.handler``.

The one module-level Lambda object. Importing this module (Lambda's init phase, captured by
SnapStart) reads the settings, builds the app, creates the environment's event loop and runs
the app's startup; every invocation then reuses all of it. The environment's lifecycle hooks
(after a SnapStart restore, SIGTERM, exit) are registered here too.
"""

from __future__ import annotations

from app.aws_lambda import lifecycle
from app.aws_lambda.factory import build_handler, lambda_settings

handler = build_handler(lambda_settings())
lifecycle.install(handler)

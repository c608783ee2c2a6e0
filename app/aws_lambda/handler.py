"""The AWS Lambda entry point: ``app.aws_lambda.handler.handler``.

The one module-level Lambda object. Importing this module (Lambda's init phase, captured by
SnapStart) reads the settings, builds the app, creates the environment's event loop and runs
the app's startup; every invocation then reuses all of it. The environment's lifecycle hooks
(after a SnapStart restore, SIGTERM, exit) are registered here too.

``LOG_LEVEL`` sets the root logger's level here (the runtime client set it to Lambda's
application log level, which the stack keeps at INFO so that level-less EMF lines survive):
every library's records below it are dropped in this process, as Lambda's filter would.

The cyclic collector is off during init and what init built is then frozen: init creates some
100,000 long-lived container objects and only a few hundred garbage ones, so the dozens of
collections it would trigger, and the full one the first requests would run over that heap,
are wasted work (``gc.freeze``'s documented use). The collector runs as usual afterwards.
"""

from __future__ import annotations

import gc

gc.disable()
try:
    import logging

    from app.aws_lambda import hooks, priming
    from app.aws_lambda.factory import build_handler, lambda_settings

    settings = lambda_settings()
    logging.getLogger().setLevel(settings.log_level)
    handler = build_handler(settings)
    hooks.install(handler)
    priming.install(handler)  # SnapStart: the first request's paths, run before the snapshot
finally:
    gc.freeze()
    gc.enable()

"""The AWS Lambda entry point: ``app.aws_lambda.handler.handler``.

The one module-level Lambda object. Importing this module (Lambda's init phase, captured by
SnapStart) reads the settings, builds the app, creates the environment's event loop and runs
the app's startup; every invocation then reuses all of it. The environment's lifecycle hooks
(after a SnapStart restore, SIGTERM, exit) are registered here too.

The cyclic collector is off during init and what init built is then frozen: init creates some
100,000 long-lived container objects and only a few hundred garbage ones, so the dozens of
collections it would trigger, and the full one the first requests would run over that heap,
are wasted work (``gc.freeze``'s documented use). The collector runs as usual afterwards.
"""

from __future__ import annotations

import gc

gc.disable()
try:
    from app.aws_lambda import lifecycle, priming
    from app.aws_lambda.factory import build_handler, lambda_settings

    handler = build_handler(lambda_settings())
    lifecycle.install(handler)
    priming.install(handler)  # SnapStart: the first request's paths, run before the snapshot
finally:
    gc.freeze()
    gc.enable()

"""The app as ``python -m app.server`` serves it: a request the drain cuts off is answered.

When the drain after SIGINT/SIGTERM runs out (``ServerLimits.drain_timeout``), uvicorn cancels
the requests still running: each would get uvicorn's plain-text 500 and leave a traceback. Here
such a request is answered with a JSON 503 and ``Retry-After`` instead, and a one-line warning.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Scope

from app.http.answers import Answer, answer_if_not_started
from app.main import create_app

logger = logging.getLogger("app.server")

CUT_OFF = "The server stopped before this request finished; retry"


def served_app() -> ASGIApp:
    """``create_app()`` (settings from the environment), its cut-off requests answered."""
    return answer_cut_off_requests(create_app())


def answer_cut_off_requests(app: ASGIApp) -> ASGIApp:
    return answer_if_not_started(app, asyncio.CancelledError, _cut_off)


def _cut_off(scope: Scope, error: BaseException, started: bool) -> Answer | None:
    if started:
        return None
    # Only the server cancels a request, as it stops: nothing awaits this task any more.
    logger.warning("%s %s cut off by the shutdown: 503", scope["method"], scope["path"])
    return 503, CUT_OFF, (("retry-after", "1"),)

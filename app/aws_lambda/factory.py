"""This app on Lambda: its settings there and the handler built from them.

Kept apart from ``adapter`` (which serves any ASGI app) and from ``handler`` (the one module
that builds a handler at import), so that tools and tests can build handlers of their own.
"""

from __future__ import annotations

import os
from typing import Any

from app.aws_lambda.adapter import LambdaAdapter
from app.config import Settings, load_settings
from app.contract.environment import env_name
from app.main import create_app
from app.store.protocol import Reconnects


def lambda_settings(**overrides: Any) -> Settings:
    """Settings for Lambda: from the environment; identity from API Gateway and EMF metrics
    unless set.

    Bad settings raise ``ConfigError`` (Lambda reports an init error with its message).
    """
    if env_name("identity_mode") not in os.environ:
        overrides.setdefault("identity_mode", "gateway")
    if env_name("metrics") not in os.environ:
        overrides.setdefault("metrics", "emf")
    return load_settings(**overrides)


def build_handler(settings: Settings) -> LambdaAdapter:
    """The Lambda handler for the app ``settings`` describe (store, identity, limits...)."""
    if settings.identity_mode == "dev":
        raise ValueError(
            "IDENTITY_MODE=dev makes every caller the same user; it is for local runs only. "
            "Lambda behind API Gateway uses IDENTITY_MODE=gateway."
        )
    app = create_app(settings)
    store = app.state.store
    # After a SnapStart restore the store's connections and credentials are stale.
    on_restore = store.reconnect if isinstance(store, Reconnects) else None
    return LambdaAdapter(app, on_restore=on_restore)

"""An app whose store has a bug (not a store failure the app knows): for the server tests.

``uvicorn tests.broken_app:create_app --factory`` serves the real app on SQLite, except that
listing orders raises an error nothing in the app expects.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from app.config import Settings
from app.main import create_app as create_real_app
from app.store import OrderStore, open_store


class BuggyStore:
    """A real store whose ``list`` has a bug."""

    def __init__(self, inner: OrderStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def list(self, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug in the list path")


def create_app() -> FastAPI:
    settings = Settings(store_url=os.environ["STORE_URL"], greet_delay=0)
    store: Any = BuggyStore(open_store(settings.store_url))
    return create_real_app(settings, store=store)

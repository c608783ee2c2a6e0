"""One time budget shared by several store calls (a keyed request's claim, write and release).

Both stores bound each call by its own limit (DynamoDB: a retry budget; SQLite: the busy
timeout) and, inside ``one_budget``, also by the scope's deadline, so a keyed request has given
up by the time its claim's lease (the budget's length) ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

# When set: the loop time by which every store call started in this context must end.
_deadline: ContextVar[float | None] = ContextVar("store_deadline", default=None)


@contextmanager
def one_budget(seconds: float) -> Iterator[timedelta]:
    """Every store call started inside ends by one deadline, ``seconds`` from now (or an
    enclosing scope's, if earlier). Yields the time that leaves."""
    now = asyncio.get_running_loop().time()
    outer = _deadline.get()
    ends = now + seconds if outer is None else min(outer, now + seconds)
    token = _deadline.set(ends)
    try:
        yield timedelta(seconds=max(0.0, ends - now))
    finally:
        _deadline.reset(token)


def deadline() -> float | None:
    """The loop time by which the current scope's store calls must end; None outside one."""
    return _deadline.get()


# A readiness check (``OrderStore.check``) answers within this many seconds.
READINESS_BUDGET = 1.0

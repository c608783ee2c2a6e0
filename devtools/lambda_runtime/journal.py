"""What the local runtime keeps of its past: the most recent records, bounded.

The runtime records every REPORT, span, log line and DynamoDB request for the tools that read
them (tests, ``make bench``, ``make load``). Kept for the process's life, they grew the gateway
with every request it served. A ``Journal`` keeps the newest
``limit`` records and counts all of them, so a tool reads what it needs (``since`` a count it
took before its requests) and an hours-long ``make gateway`` stays flat.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar, overload

T = TypeVar("T")

LIMIT_ENV = "LOCAL_LAMBDA_JOURNAL"
DEFAULT_LIMIT = 10_000  # records of each kind: about 2,500 requests' log lines


def default_limit() -> int:
    """``LOCAL_LAMBDA_JOURNAL`` (a positive integer) or ``DEFAULT_LIMIT``."""
    value = os.environ.get(LIMIT_ENV, "")
    if not value:
        return DEFAULT_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{LIMIT_ENV}={value!r}: expected a positive integer")
    return int(value)


class Journal(Generic[T]):
    """The newest ``limit`` records, read like a list; ``total`` counts every one added."""

    def __init__(self, limit: int | None = None) -> None:
        self._items: deque[T] = deque(maxlen=limit or default_limit())
        self._lock = threading.Lock()
        self.total = 0

    @property
    def limit(self) -> int:
        return self._items.maxlen or 0

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            self.total += 1

    def since(self, total: int) -> list[T]:
        """The records added after ``total`` were, as far as they are still kept."""
        with self._lock:
            newer = self.total - total
            return list(self._items)[-newer:] if newer > 0 else []

    def snapshot(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.snapshot()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Journal):
            return self.snapshot() == other.snapshot()
        return isinstance(other, list) and self.snapshot() == other

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

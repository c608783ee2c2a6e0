"""How much one page of a listing may hold: ``limit`` orders and ``max_bytes`` of JSON.

Both stores fill pages through ``PageFiller``, with one measure of an order (``encoded_size``),
so a page is cut at the same order whichever store holds them.
"""

from __future__ import annotations

from json.encoder import encode_basestring

from app.domain.orders import Order

# Upper bounds of what surrounds the product names in an order's compact JSON: the id, time,
# status, field names and punctuation (119 bytes at most), and per item the size, quantity,
# field names and punctuation (48 bytes at most).
ORDER_OVERHEAD = 128
ITEM_OVERHEAD = 48


def encoded_size(order: Order) -> int:
    """An upper bound of the bytes ``order`` takes in a JSON listing (compact, UTF-8)."""
    return ORDER_OVERHEAD + sum(
        ITEM_OVERHEAD + len(encode_basestring(item.product).encode()) for item in order.items
    )


class PageFiller:
    """Takes orders, newest first, while they fit: at most ``limit`` orders and, together,
    at most ``max_bytes`` by ``encoded_size``. The first order always fits, even alone over
    ``max_bytes``: a page that could be empty while orders remain would stop a walk."""

    def __init__(self, limit: int, max_bytes: int | None) -> None:
        self.orders: list[Order] = []
        self._limit = limit
        self._room = max_bytes
        self._smallest: int | None = None

    def take(self, order: Order) -> bool:
        """Add ``order`` to the page; False (and not added) when the page is full without it."""
        if len(self.orders) >= self._limit:
            return False
        if self._room is not None:
            size = encoded_size(order)
            if self.orders and size > self._room:
                return False
            self._room -= size
            self._smallest = size if self._smallest is None else min(self._smallest, size)
        self.orders.append(order)
        return True

    def wanted(self) -> int:
        """How many more orders to read: as many as may still fit (judging by the smallest
        taken so far), plus one to tell whether more follow."""
        count = self._limit - len(self.orders)
        if self._room is not None and self._smallest:
            count = max(0, min(count, self._room // self._smallest))
        return count + 1

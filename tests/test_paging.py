"""Filling a page: the count and byte bounds, and how many orders a store should read next."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.orders import Order, OrderItem, Size, Status
from app.http.schemas import GetOrderSchema
from app.service import new_order_id
from app.store.paging import ITEM_OVERHEAD, ORDER_OVERHEAD, PageFiller, encoded_size


def order(product_bytes: int) -> Order:
    item = OrderItem("x" * product_bytes, Size.MEDIUM, 1_000_000)
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)  # microseconds: the longest
    return Order(new_order_id(), "alice", created, Status.DISPATCHED, (item,))


def test_the_size_bounds_the_order_as_the_api_writes_it() -> None:
    """Longest status, size and quantity, a time with microseconds: still within the bound,
    with room for the comma between orders."""
    o = order(100)
    assert encoded_size(o) == ORDER_OVERHEAD + ITEM_OVERHEAD + 102
    written = GetOrderSchema.from_domain(o).model_dump_json().encode()
    assert len(written) + 1 <= encoded_size(o)
    tricky = OrderItem('"\\\u00e9\u20ac\U0001f600', Size.SMALL, 1)
    escaped = len('"\\"\\\\\u00e9\u20ac\U0001f600"'.encode())
    assert encoded_size(Order(o.id, "a", o.created, o.status, (tricky,))) == (
        ORDER_OVERHEAD + ITEM_OVERHEAD + escaped
    )


def test_orders_are_taken_while_they_fit() -> None:
    size = encoded_size(order(1000))
    page = PageFiller(limit=10, max_bytes=3 * size)
    assert page.wanted() == 11
    assert [page.take(order(1000)) for _ in range(4)] == [True, True, True, False]
    assert len(page.orders) == 3
    assert page.wanted() == 1


def test_the_count_bound_holds_without_a_byte_bound() -> None:
    page = PageFiller(limit=2, max_bytes=None)
    assert [page.take(order(10**5)) for _ in range(3)] == [True, True, False]


def test_the_first_order_is_taken_even_over_the_bound_and_one_more_is_read() -> None:
    page = PageFiller(limit=10, max_bytes=100)
    assert page.take(order(1000))
    assert page.wanted() == 1  # never a Limit of 0: whether more follow still has to be known
    assert not page.take(order(1))


def test_reads_are_sized_by_the_smallest_order_taken() -> None:
    small, large = encoded_size(order(100)), encoded_size(order(10_000))
    page = PageFiller(limit=50, max_bytes=large + 10 * small)
    assert page.take(order(10_000))
    assert page.take(order(100))
    assert page.wanted() == 9 + 1

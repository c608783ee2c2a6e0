"""The store contract: every OrderStore implementation must pass this suite unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.idempotency import ClaimLost, Completion, IdempotencyRecord
from app.domain.orders import Order, OrderItem, OrderNotFound, Size, StateConflict, Status
from app.service import new_order_id
from app.store import OrderStore, open_store
from app.store.paging import encoded_size

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LATTE = (OrderItem("latte", Size.BIG, 2),)


def make_order(owner: str = "alice", status: Status = Status.CREATED, n: int = 0) -> Order:
    return Order(
        id=new_order_id(),
        owner=owner,
        created=T0 + timedelta(seconds=n),
        status=status,
        items=(OrderItem(f"drink {n}", Size.SMALL, n + 1), OrderItem("café ☕", Size.MEDIUM, 1)),
    )


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[OrderStore]:
    s = open_store(store_url)
    await s.open()
    yield s
    await s.close()


async def test_add_then_get_round_trips_exactly(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)
    got = await store.get("alice", order.id)
    assert got == order
    assert got is not None
    assert type(got.items[0].quantity) is int
    assert got.created.tzinfo is not None


async def test_get_is_scoped_to_the_owner(store: OrderStore) -> None:
    order = make_order("alice")
    await store.add(order)
    assert await store.get("bob", order.id) is None
    assert await store.get("alice", new_order_id()) is None


async def test_list_is_newest_first_with_more_flag(store: OrderStore) -> None:
    orders = [make_order(n=i) for i in range(5)]
    for o in orders:
        await store.add(o)
    await store.add(make_order("bob"))
    page = await store.list("alice", cancelled=None, limit=3, before=None)
    assert page.orders == orders[::-1][:3]
    assert page.more
    rest = await store.list("alice", cancelled=None, limit=3, before=page.orders[-1].id)
    assert rest.orders == orders[::-1][3:]
    assert not rest.more


async def test_list_exact_fit_has_no_more(store: OrderStore) -> None:
    for i in range(3):
        await store.add(make_order(n=i))
    page = await store.list("alice", cancelled=None, limit=3, before=None)
    assert len(page.orders) == 3
    assert not page.more


def big_order(n: int, kib: int) -> Order:
    """An order of about ``kib`` KiB of JSON: items of 200 three-byte characters each."""
    items = tuple(OrderItem("€" * 200, Size.SMALL, n + 1) for _ in range(kib * 1024 // 650 + 1))
    return Order(id=new_order_id(), owner="alice", created=T0, status=Status.CREATED, items=items)


@pytest.mark.parametrize("max_bytes", [1, 10_000, 25_000])
async def test_list_is_bounded_in_bytes_and_a_walk_sees_each_order_once(
    store: OrderStore, max_bytes: int
) -> None:
    """Pages hold at most ``max_bytes`` by ``encoded_size`` (never fewer than one order, or a
    walk could not move), and the orders left out start the next page."""
    orders = [big_order(n, kib=2 + (n % 3)) for n in range(12)]
    for o in orders:
        await store.add(o)
    seen: list[Order] = []
    before = None
    while True:
        page = await store.list(
            "alice", cancelled=None, limit=10, before=before, max_bytes=max_bytes
        )
        assert page.orders
        sizes = [encoded_size(o) for o in page.orders]
        assert len(page.orders) == 1 or sum(sizes) <= max_bytes
        if page.more and len(page.orders) < 10:  # cut by bytes: the next one did not fit
            following = orders[::-1][len(seen) + len(page.orders)]
            assert sum(sizes) + encoded_size(following) > max_bytes
        seen += page.orders
        if not page.more:
            break
        before = page.orders[-1].id
    assert seen == orders[::-1]


async def test_list_of_nobody_is_empty(store: OrderStore) -> None:
    page = await store.list("nobody", cancelled=None, limit=10, before=None)
    assert page.orders == []
    assert not page.more


@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_cancelled_filter_fills_pages(store: OrderStore, limit: int) -> None:
    statuses = [
        Status.CANCELLED,
        Status.CREATED,
        Status.CREATED,
        Status.CREATED,
        Status.PAID,
        Status.CANCELLED,
        Status.CREATED,
        Status.CREATED,
        Status.CANCELLED,
    ]
    orders = [make_order(status=s, n=i) for i, s in enumerate(statuses)]
    for o in orders:
        await store.add(o)
    for wanted in (True, False):
        expected = [o for o in orders[::-1] if (o.status is Status.CANCELLED) is wanted]
        seen: list[Order] = []
        before = None
        while True:
            page = await store.list("alice", cancelled=wanted, limit=limit, before=before)
            if page.more:
                assert len(page.orders) == limit  # never a short page while more exist
            seen += page.orders
            if not page.more:
                break
            before = page.orders[-1].id
        assert seen == expected


async def test_update_applies_status_and_items_and_bumps_version(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)
    paid = await store.update("alice", order.id, allowed_from={Status.CREATED}, status=Status.PAID)
    assert (paid.status, paid.version, paid.items) == (Status.PAID, 2, order.items)
    replaced = await store.update("alice", order.id, allowed_from={Status.PAID}, items=LATTE)
    assert (replaced.status, replaced.version, replaced.items) == (Status.PAID, 3, LATTE)
    assert await store.get("alice", order.id) == replaced


async def test_update_in_a_wrong_status_is_a_conflict_and_changes_nothing(
    store: OrderStore,
) -> None:
    order = make_order(status=Status.CANCELLED)
    await store.add(order)
    with pytest.raises(StateConflict) as caught:
        await store.update("alice", order.id, allowed_from={Status.CREATED}, status=Status.PAID)
    assert caught.value.current == order
    assert await store.get("alice", order.id) == order


async def test_update_with_a_stale_version_is_a_conflict(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)
    await store.update("alice", order.id, allowed_from={Status.CREATED}, items=LATTE)
    with pytest.raises(StateConflict) as caught:
        await store.update(
            "alice", order.id, allowed_from={Status.CREATED}, items=order.items, expected_version=1
        )
    assert caught.value.current.version == 2
    ok = await store.update(
        "alice", order.id, allowed_from={Status.CREATED}, status=Status.PAID, expected_version=2
    )
    assert ok.version == 3


async def test_update_of_missing_or_foreign_order_is_not_found(store: OrderStore) -> None:
    order = make_order("alice")
    await store.add(order)
    for owner, oid in (("bob", order.id), ("alice", new_order_id())):
        with pytest.raises(OrderNotFound):
            await store.update(owner, oid, allowed_from=set(Status), status=Status.PAID)
    assert await store.get("alice", order.id) == order


async def test_delete_removes_only_the_owners_order(store: OrderStore) -> None:
    order = make_order("alice")
    await store.add(order)
    with pytest.raises(OrderNotFound):
        await store.delete("bob", order.id)
    assert await store.get("alice", order.id) == order
    await store.delete("alice", order.id)
    assert await store.get("alice", order.id) is None
    with pytest.raises(OrderNotFound):
        await store.delete("alice", order.id)


async def test_concurrent_conditional_updates_have_one_winner(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)

    async def pay() -> str:
        try:
            await store.update("alice", order.id, allowed_from={Status.CREATED}, status=Status.PAID)
        except StateConflict:
            return "conflict"
        return "won"

    results = await asyncio.gather(*(pay() for _ in range(30)))
    assert results.count("won") == 1
    assert results.count("conflict") == 29


async def test_concurrent_deletes_have_one_winner(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)

    async def delete() -> bool:
        try:
            await store.delete("alice", order.id)
        except OrderNotFound:
            return False
        return True

    results = await asyncio.gather(*(delete() for _ in range(30)))
    assert results.count(True) == 1


async def test_delete_with_a_stale_version_is_a_conflict(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)
    await store.update("alice", order.id, allowed_from={Status.CREATED}, items=LATTE)
    with pytest.raises(StateConflict) as caught:
        await store.delete("alice", order.id, expected_version=1)
    assert caught.value.current.version == 2
    assert await store.get("alice", order.id) is not None
    await store.delete("alice", order.id, expected_version=2)
    assert await store.get("alice", order.id) is None
    with pytest.raises(OrderNotFound):
        await store.delete("alice", order.id, expected_version=2)


# --- idempotency records --------------------------------------------------------------------

LEASE = timedelta(seconds=60)
DAY = timedelta(hours=24)


def token_of(fp: str) -> str:
    """The claim token these tests give the attempt of the request with fingerprint ``fp``."""
    return f"t-{fp}"


async def claim(
    store: OrderStore, owner: str, key: str, fp: str, *, now: datetime, token: str | None = None
) -> IdempotencyRecord | None:
    return await store.claim_idempotency(
        owner, key, fp, token=token or token_of(fp), now=now, lease_until=now + LEASE
    )


def completion(key: str, fp: str, now: datetime = T0, *, token: str | None = None) -> Completion:
    return Completion(key=key, fingerprint=fp, expires_at=now + DAY, token=token or token_of(fp))


async def test_claim_then_complete_with_add_is_one_write(store: OrderStore) -> None:
    assert await claim(store, "alice", "k", "fp", now=T0) is None
    in_flight = await claim(store, "alice", "k", "fp", now=T0)
    assert in_flight is not None
    assert (in_flight.fingerprint, in_flight.in_flight) == ("fp", True)
    order = make_order()
    await store.add(order, completes=completion("k", "fp"))
    done = await claim(store, "alice", "k", "fp", now=T0)
    assert done is not None
    assert done.result == order
    assert await store.get("alice", order.id) == order


async def test_complete_with_update_records_the_updated_order(store: OrderStore) -> None:
    order = make_order()
    await store.add(order)
    await claim(store, "alice", "pay", "fp", now=T0)
    paid = await store.update(
        "alice",
        order.id,
        allowed_from={Status.CREATED},
        status=Status.PAID,
        completes=completion("pay", "fp"),
    )
    record = await claim(store, "alice", "pay", "fp", now=T0)
    assert record is not None
    assert record.result == paid


async def test_keys_are_per_owner(store: OrderStore) -> None:
    assert await claim(store, "alice", "k", "a", now=T0) is None
    assert await claim(store, "bob", "k", "b", now=T0) is None


async def test_release_frees_only_an_in_flight_claim(store: OrderStore) -> None:
    await claim(store, "alice", "k", "fp", now=T0)
    await store.release_idempotency("alice", "k", "t-other-fp")
    assert await claim(store, "alice", "k", "fp", now=T0)
    await store.release_idempotency("alice", "k", "t-fp")
    assert await claim(store, "alice", "k", "fp", now=T0) is None
    await store.add(make_order(), completes=completion("k", "fp"))
    await store.release_idempotency("alice", "k", "t-fp")
    kept = await claim(store, "alice", "k", "fp", now=T0)
    assert kept is not None
    assert not kept.in_flight


async def test_expired_records_and_abandoned_leases_can_be_claimed_again(
    store: OrderStore,
) -> None:
    await claim(store, "alice", "lease", "fp", now=T0)
    later = T0 + LEASE + timedelta(seconds=1)
    assert await claim(store, "alice", "lease", "fp2", now=later) is None
    await claim(store, "alice", "done", "fp", now=T0)
    await store.add(make_order(), completes=completion("done", "fp"))
    within = T0 + DAY - timedelta(seconds=1)
    assert await claim(store, "alice", "done", "fp", now=within)
    after = T0 + DAY + timedelta(seconds=1)
    assert await claim(store, "alice", "done", "fp", now=after) is None


async def test_a_lost_claim_writes_nothing(store: OrderStore) -> None:
    await claim(store, "alice", "k", "mine", now=T0)
    later = T0 + LEASE + timedelta(seconds=1)
    await claim(store, "alice", "k", "theirs", now=later)
    order = make_order()
    with pytest.raises(ClaimLost):
        await store.add(order, completes=completion("k", "mine"))
    assert await store.get("alice", order.id) is None
    existing = make_order()
    await store.add(existing)
    with pytest.raises(ClaimLost):
        await store.update(
            "alice",
            existing.id,
            allowed_from={Status.CREATED},
            status=Status.PAID,
            completes=completion("k", "mine"),
        )
    assert await store.get("alice", existing.id) == existing


async def test_a_late_release_or_completion_of_an_earlier_attempt_spares_the_retrys_claim(
    store: OrderStore,
) -> None:
    """A retry of the same request (same fingerprint) claims the key once the first attempt's
    lease lapsed; the first attempt's release or completion, applied late, must not touch it."""
    await claim(store, "alice", "k", "fp", now=T0, token="first")
    later = T0 + LEASE + timedelta(seconds=1)
    assert await claim(store, "alice", "k", "fp", now=later, token="retry") is None
    await store.release_idempotency("alice", "k", "first")  # the first attempt's, late
    held = await claim(store, "alice", "k", "fp", now=later, token="third")
    assert held is not None  # the retry's claim still holds the key
    assert held.in_flight
    with pytest.raises(ClaimLost):
        await store.add(make_order(), completes=completion("k", "fp", later, token="first"))
    order = make_order(n=1)
    await store.add(order, completes=completion("k", "fp", later, token="retry"))
    done = await claim(store, "alice", "k", "fp", now=later, token="fourth")
    assert done is not None
    assert done.result == order


async def test_a_cursor_from_another_partition_stays_in_the_callers(store: OrderStore) -> None:
    a1, b1, a2, b2 = (make_order(owner, n=i) for i, owner in enumerate("abab"))
    for o in (a1, b1, a2, b2):
        await store.add(o)
    page = await store.list("b", cancelled=None, limit=10, before=a2.id)
    assert (page.orders, page.more) == ([b1], False)
    page = await store.list("b", cancelled=True, limit=10, before=a2.id)
    assert (page.orders, page.more) == ([], False)

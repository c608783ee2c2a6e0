"""The table the admin helper creates, and the item layout the DynamoDB store writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.contract.table import KEY_SCHEMA, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from app.domain.orders import Order, OrderItem, Size, Status
from app.service import OrdersService, new_order_id
from app.store.dynamodb.admin import create_table, main
from app.store.dynamodb.store import DynamoDBStore
from app.store.dynamodb.table import IDEMPOTENCY_PREFIX, order_sort_key
from tests.conftest import fresh_dynamodb_table

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(moto_endpoint: str) -> AsyncIterator[DynamoDBStore]:
    s = DynamoDBStore.from_url(await fresh_dynamodb_table(moto_endpoint))
    await s.open()
    yield s
    await s.close()


async def test_the_table_has_exactly_the_shared_key_schema_and_ttl(store: DynamoDBStore) -> None:
    table = store.config.table
    response = await store.client.send("DescribeTable", {"TableName": table})
    description = response["Table"]
    assert description["KeySchema"] == [
        {"AttributeName": PARTITION_KEY.name, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY.name, "KeyType": "RANGE"},
    ]
    assert sorted(
        (a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]
    ) == sorted((key.name, key.type) for key in KEY_SCHEMA)
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = await store.client.send("DescribeTimeToLive", {"TableName": table})
    assert ttl["TimeToLiveDescription"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "TimeToLiveStatus": "ENABLED",
    }
    assert not await create_table(store.config)  # idempotent: already there


async def test_items_use_typed_keys_and_integer_numbers(store: DynamoDBStore) -> None:
    order = Order(
        id=new_order_id(),
        owner="alice",
        created=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        status=Status.CREATED,
        items=(OrderItem("latte", Size.BIG, 1_000_000),),
    )
    await store.add(order)
    key = {PARTITION_KEY.name: {"S": "alice"}, SORT_KEY.name: {"S": order_sort_key(order.id)}}
    raw = await store.client.send("GetItem", {"TableName": store.config.table, "Key": key})
    item = raw["Item"]
    assert item["version"] == {"N": "1"}
    assert item["items"]["L"][0]["M"]["quantity"] == {"N": "1000000"}
    assert item["created"] == {"S": "2026-01-02T03:04:05.678901+00:00"}
    assert await store.get("alice", order.id) == order


async def test_other_record_types_never_mix_into_order_listings(store: DynamoDBStore) -> None:
    order = Order(new_order_id(), "alice", datetime.now(UTC), Status.CREATED, ())
    await store.add(order)
    for sort_key in (f"{IDEMPOTENCY_PREFIX}abc", "ZZZ#after-orders", "A#before-orders"):
        item = {PARTITION_KEY.name: {"S": "alice"}, SORT_KEY.name: {"S": sort_key}}
        await store.client.send("PutItem", {"TableName": store.config.table, "Item": item})
    for cancelled in (None, False):
        page = await store.list("alice", cancelled=cancelled, limit=10, before=None)
        assert (page.orders, page.more) == ([order], False)
    page = await store.list("alice", cancelled=None, limit=1, before=None)
    assert (page.orders, page.more) == ([order], False)


def test_the_admin_command_creates_and_deletes_a_table(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"dynamodb://orders-cli?endpoint={moto_endpoint}"
    assert main(["create", "--url", url]) == 0
    assert main(["create", "--url", url]) == 0
    assert main(["delete", "--url", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "table orders-cli: created",
        "table orders-cli: already exists",
        "table orders-cli: deleted",
    ]


async def test_a_bounded_filtered_scan_resumes_where_it_stopped(store: DynamoDBStore) -> None:
    """Many non-matching orders: pages may come back short, but the walk sees every match."""
    store.filtered_batch, store.max_queries = 1, 2  # give up after examining 6 orders
    statuses = [Status.CANCELLED] * 2 + [Status.CREATED] * 7 + [Status.CANCELLED] * 2
    orders = [Order(new_order_id(), "alice", datetime.now(UTC), status, ()) for status in statuses]
    for o in orders:
        await store.add(o)
    service = OrdersService(store)
    seen: list[Order] = []
    pages = 0
    cursor: str | None = None
    while True:
        listing = await service.list(
            "alice", cancelled=True, limit=2, cursor=cursor, max_bytes=1_000_000
        )
        seen += listing.orders
        pages += 1
        cursor = listing.next_cursor
        if cursor is None:
            break
    expected = [o for o in orders[::-1] if o.status is Status.CANCELLED]
    assert seen == expected
    assert pages > 2  # at least one page was cut short by the bound

"""The order store on one DynamoDB table, over httpx (app/store/dynamodb/client.py). DynamoDB code
lives here.

Every state-dependent write is conditional; reads are strongly consistent, as on SQLite. The
item layout is in app/store/dynamodb/items.py, retries in app/store/dynamodb/retry.py.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import httpx
from aiodynamo.credentials import Credentials
from aiodynamo.errors import ConditionalCheckFailed
from aiodynamo.utils import dy2py, py2dy

from app.domain.idempotency import Completion, IdempotencyRecord
from app.domain.orders import (
    Order,
    OrderItem,
    OrderNotFound,
    Page,
    StateConflict,
    Status,
    StoreRefused,
    StoreUnavailable,
)
from app.store.budget import READINESS_BUDGET, deadline, one_budget
from app.store.codec import dump_items
from app.store.dynamodb.client import DynamoDBClient
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.errors import (
    classify,
    handled_by_the_store,
    misconfiguration,
    refusal,
)
from app.store.dynamodb.expressions import with_expressions
from app.store.dynamodb.idempotency import IdempotencyRecords
from app.store.dynamodb.items import (
    PK,
    SK,
    WRITE_ID,
    order_key,
    to_item,
    to_order,
)
from app.store.dynamodb.retry import Retrier
from app.store.dynamodb.table import ORDER_PREFIX, order_id_from_sort_key
from app.store.dynamodb.transactions import CompletingWrites
from app.store.paging import PageFiller

# Seconds a client is told to wait when the store is misconfigured: an operator must act.
MISCONFIGURED_RETRY_AFTER = 30
READINESS_KEY = {PK: "#readiness", SK: "#readiness"}  # never written

logger = logging.getLogger("app.store.dynamodb")

# A listing's FilterExpression by its ``cancelled`` argument (":cancelled" is CANCELLED).
_CANCELLED_FILTER: dict[bool | None, str | None] = {
    None: None,
    True: "#status = :cancelled",
    False: "#status <> :cancelled",
}


def _exists_at(expected_version: int | None) -> tuple[str, dict[str, Any]]:
    """A condition that the order exists (at ``expected_version``, when given), and its values."""
    if expected_version is None:
        return f"attribute_exists(#{PK})", {}
    return f"attribute_exists(#{PK}) AND #version = :expected", {"expected": expected_version}


class DynamoDBStore:
    """One httpx client per store (so per process / Lambda environment), opened at startup."""

    # A filtered listing reads this many items per Query (Limit counts items before the filter)
    # and stops after this many Queries, so one page costs bounded time and read capacity; a page
    # cut short that way says where to resume (``Page.resume_after``).
    filtered_batch = 100
    max_queries = 20

    def __init__(
        self, config: DynamoDBConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._transport = transport
        self._tls: ssl.SSLContext | None = None
        self._http: httpx.AsyncClient | None = None
        self._client: DynamoDBClient | None = None
        self._records = IdempotencyRecords(self._send)
        self._completing = CompletingWrites(
            config.table,
            config.retry,
            send_raw=self._send_raw,
            get_item=self._get_item,
            records=self._records,
        )

    @classmethod
    def from_url(cls, url: str) -> DynamoDBStore:
        return cls(DynamoDBConfig.from_url(url))

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            raise RuntimeError("DynamoDBStore used before open()")
        return self._client

    async def open(self) -> None:
        """Create the HTTP client. No request is made: the table is created by the deployment
        (or ``app.store.dynamodb.admin`` locally), so a cold start pays no round trip.

        Credentials come from the standard chain, looked up on the first call: environment
        keys (Lambda without SnapStart, local runs), the shared credentials file, then the
        container endpoint with its authorization token (Lambda with SnapStart sets only
        ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``),
        whose short-lived keys are fetched again before they expire.
        """
        cfg = self.config
        if self._tls is None:  # loading the CA bundle costs tens of ms: once per process
            self._tls = httpx.create_ssl_context()
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout),
            transport=self._transport,
            verify=self._tls,
        )
        self._client = DynamoDBClient(
            self._http, Credentials.auto(), cfg.region, endpoint=cfg.endpoint
        )

    async def reconnect(self) -> None:
        """Drop pooled connections and cached credentials; the next call opens and fetches anew.

        After a SnapStart restore both are stale: the snapshot's connections are gone and the
        keys fetched during init may have expired while the snapshot waited.
        """
        await self.close()
        await self.open()

    @contextmanager
    def dry_run(self) -> Iterator[None]:
        """Within the block, every call is built, signed and decoded as usual but answered by
        a table in this process (``dry_run.InMemoryTable``, which also serves made-up keys the
        way the container-credentials endpoint does): nothing reaches DynamoDB or the endpoint,
        and the real client (its pool, its keys) is left untouched. For priming a SnapStart
        snapshot."""
        from aiodynamo.credentials import ContainerMetadataCredentials
        from yarl import URL

        from app.store.dynamodb.dry_run import CREDENTIALS_URL, InMemoryTable

        real = self._client
        http = httpx.AsyncClient(transport=httpx.MockTransport(InMemoryTable().handle))
        keys = ContainerMetadataCredentials(full_uri=URL(CREDENTIALS_URL), auth_token=None)
        self._client = DynamoDBClient(http, keys, self.config.region, endpoint=self.config.endpoint)
        try:
            yield
        finally:
            self._client = real

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
            self._client = None

    async def _send_raw(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One request. An error no retry can fix is a 503 (misconfigured) or a refusal, each
        logged in one line; transient errors and failed conditions are the caller's to handle."""
        try:
            return await self.client.send(action, payload)
        except Exception as exc:
            if classify(exc) is not None or handled_by_the_store(exc):
                raise
            problem = misconfiguration(exc, self.config)
            if problem is not None:
                logger.error("DynamoDB store unusable: %s", problem)
                raise StoreUnavailable(retry_after=MISCONFIGURED_RETRY_AFTER) from exc
            refused = refusal(exc, action)
            if refused is None:
                raise
            logger.error("DynamoDB store refused %s", refused)
            raise StoreRefused from exc

    async def _send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._send_raw(action, {"TableName": self.config.table, **payload})

    async def _get_item(self, owner: str, order_id: UUID) -> dict[str, Any] | None:
        response = await self._send(
            "GetItem", {"Key": py2dy(order_key(owner, order_id)), "ConsistentRead": True}
        )
        return dy2py(response["Item"], int) if "Item" in response else None

    async def _current(
        self, failure: ConditionalCheckFailed, retry: Retrier, owner: str, order_id: UUID
    ) -> dict[str, Any] | None:
        """The item a conditional write failed on (ALL_OLD), else a consistent read of it."""
        body = failure.args[0] if failure.args else None
        if isinstance(body, dict) and "Item" in body:
            return dy2py(body["Item"], int)
        # Without ALL_OLD the item was missing (or the endpoint ignores the option): ids are
        # never reused, so a read after the failure tells missing from present without a race.
        return await retry(lambda: self._get_item(owner, order_id))

    async def _query(
        self, owner: str, filter_expression: str | None, start: dict[str, Any] | None, wanted: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One Query of the owner's orders, newest first: the items and the LastEvaluatedKey."""
        payload: dict[str, Any] = {
            "ScanIndexForward": False,  # newest first: uuid7 sort keys sort by creation time
            "Limit": wanted if filter_expression is None else max(wanted, self.filtered_batch),
            "ConsistentRead": True,
        }
        if start is not None:
            payload["ExclusiveStartKey"] = py2dy(start)
        values = {"owner": owner, "prefix": ORDER_PREFIX}
        filtering: dict[str, str] = {}
        if filter_expression is not None:
            values["cancelled"] = Status.CANCELLED.value
            filtering["FilterExpression"] = filter_expression
        response = await self._send(
            "Query",
            with_expressions(
                payload,
                values,
                KeyConditionExpression=f"#{PK} = :owner AND begins_with(#{SK}, :prefix)",
                **filtering,
            ),
        )
        last = response.get("LastEvaluatedKey")
        items = [dy2py(item, int) for item in response["Items"]]
        return items, None if last is None else dy2py(last, int)

    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        if completes is not None:
            await self._completing.add(order, completes)
            return
        retry = Retrier(self.config.retry, "add")
        write_id = uuid.uuid4().hex
        payload = with_expressions(
            {
                "Item": py2dy(to_item(order, write_id)),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            ConditionExpression=f"attribute_not_exists(#{PK})",
        )

        async def put() -> None:
            try:
                await self._send("PutItem", payload)
            except ConditionalCheckFailed as failure:
                current = await self._current(failure, retry, order.owner, order.id)
                if not (retry.maybe_applied and current and current.get(WRITE_ID) == write_id):
                    raise RuntimeError(f"Order id {order.id} already exists") from None

        await retry(put)

    async def get(self, owner: str, order_id: UUID) -> Order | None:
        item = await Retrier(self.config.retry, "get")(lambda: self._get_item(owner, order_id))
        return None if item is None else to_order(item)

    async def list(
        self,
        owner: str,
        *,
        cancelled: bool | None,
        limit: int,
        before: UUID | None,
        max_bytes: int | None = None,
    ) -> Page:
        retry = Retrier(self.config.retry, "list")
        filter_expression = _CANCELLED_FILTER[cancelled]
        # The start key is built from the caller's owner, so no cursor can leave the partition.
        start: dict[str, Any] | None = None if before is None else order_key(owner, before)
        page = PageFiller(limit, max_bytes)
        examined = before
        for _ in range(self.max_queries):
            wanted = page.wanted()  # the Limit: what may still fit, and one more
            items, last = await retry(partial(self._query, owner, filter_expression, start, wanted))
            for item in items:
                if not page.take(to_order(item)):  # full: no more Queries for this page
                    return Page(orders=page.orders, more=True)
            if last is None:
                return Page(orders=page.orders, more=False)
            start = last
            examined = order_id_from_sort_key(start[SK])
        return Page(orders=page.orders, more=True, resume_after=examined)

    async def update(
        self,
        owner: str,
        order_id: UUID,
        *,
        allowed_from: Collection[Status],
        status: Status | None = None,
        items: tuple[OrderItem, ...] | None = None,
        expected_version: int | None = None,
        completes: Completion | None = None,
    ) -> Order:
        if completes is not None:
            return await self._completing.update(
                owner, order_id, allowed_from, status, items, expected_version, completes
            )
        retry = Retrier(self.config.retry, "update")
        write_id = uuid.uuid4().hex
        changes = ["#version = #version + :one", f"#{WRITE_ID} = :write_id"]
        values: dict[str, Any] = {"one": 1, "write_id": write_id}
        if status is not None:
            changes.append("#status = :status")
            values["status"] = status.value
        if items is not None:
            changes.append("#items = :items")
            values["items"] = dump_items(items)
        condition, expected = _exists_at(expected_version)
        allowed = {f"from{i}": s for i, s in enumerate(sorted(s.value for s in allowed_from))}
        values.update(expected | allowed)
        condition += f" AND #status IN ({', '.join(f':{name}' for name in allowed)})"
        payload = with_expressions(
            {
                "Key": py2dy(order_key(owner, order_id)),
                "ReturnValues": "ALL_NEW",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            values,
            UpdateExpression="SET " + ", ".join(changes),
            ConditionExpression=condition,
        )

        async def write() -> Order:
            try:
                response = await self._send("UpdateItem", payload)
            except ConditionalCheckFailed as failure:
                current = await self._current(failure, retry, owner, order_id)
                if current is None:
                    raise OrderNotFound(order_id) from None
                if retry.maybe_applied and current.get(WRITE_ID) == write_id:
                    return to_order(current)  # our earlier attempt applied; its answer was lost
                raise StateConflict(to_order(current)) from None
            return to_order(dy2py(response["Attributes"], int))

        return await retry(write)

    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        retry = Retrier(self.config.retry, "delete")
        condition, values = _exists_at(expected_version)
        payload = with_expressions(
            {
                "Key": py2dy(order_key(owner, order_id)),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            values,
            ConditionExpression=condition,
        )

        async def remove() -> None:
            try:
                await self._send("DeleteItem", payload)
            except ConditionalCheckFailed as failure:
                current = await self._current(failure, retry, owner, order_id)
                if current is not None:
                    raise StateConflict(to_order(current)) from None  # at another version
                # Gone. After an attempt that may have applied, that was most likely our own
                # delete whose answer was lost: deleting is idempotent, so report success.
                if not retry.maybe_applied:
                    raise OrderNotFound(order_id) from None

        await retry(remove)

    # --- idempotency keys ---------------------------------------------------------------

    async def claim_idempotency(
        self, owner: str, key: str, fingerprint: str, *, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        retry = Retrier(self.config.retry, "claim")
        claim = partial(
            self._records.claim,
            owner,
            key,
            fingerprint,
            now=now,
            lease_until=lease_until,
            token=uuid.uuid4().hex,
        )
        return await retry(claim)

    async def release_idempotency(self, owner: str, key: str, fingerprint: str) -> None:
        """Release the claim, or return only once its lease (this budget) is over: either way
        the key is free when the request's 503 is sent."""
        try:
            await Retrier(self.config.retry, "release")(
                partial(self._records.release, owner, key, fingerprint)
            )
        except StoreUnavailable:
            lease_ends = deadline()
            if lease_ends is not None:
                # and the milliseconds by which the lease was rounded up
                await asyncio.sleep(lease_ends + 0.002 - asyncio.get_running_loop().time())
            raise

    def one_budget(self) -> AbstractContextManager[timedelta]:
        return one_budget(self.config.retry.budget)

    async def check(self) -> None:
        """One eventually consistent GetItem of a key never written: the table answers."""
        policy = replace(self.config.retry, budget=min(READINESS_BUDGET, self.config.retry.budget))
        payload = {"Key": py2dy(READINESS_KEY), "ConsistentRead": False}
        try:
            await Retrier(policy, "readiness check")(partial(self._send, "GetItem", payload))
        except StoreRefused:  # logged: a store that refuses its simplest read is not ready
            raise StoreUnavailable(retry_after=MISCONFIGURED_RETRY_AFTER) from None

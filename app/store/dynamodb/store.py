"""The order store on one DynamoDB table, over httpcore (``client``, ``transport``).

Reads are strongly consistent, as on SQLite. Every write is a conditional ``Write`` built in
``payloads`` and sent by ``writer``, alone or with an idempotency key's completion; the item
layout is in ``items``, the errors' meaning in ``errors``, retries in ``retry``.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from aiodynamo.credentials import Credentials
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
from app.store.budget import READINESS_BUDGET
from app.store.dynamodb.client import DynamoDBClient
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.expressions import with_expressions
from app.store.dynamodb.idempotency import IdempotencyRecords
from app.store.dynamodb.items import PK, SK, order_key, to_order
from app.store.dynamodb.payloads import (
    Write,
    complete_record,
    delete_order,
    put_order,
    update_order,
)
from app.store.dynamodb.proxies import proxied
from app.store.dynamodb.retry import Retrier
from app.store.dynamodb.table import ORDER_PREFIX, order_id_from_sort_key
from app.store.dynamodb.table_api import MISCONFIGURED_RETRY_AFTER, TableAPI
from app.store.dynamodb.tls import client_context
from app.store.dynamodb.transport import Connections, Transport, connection_pool
from app.store.dynamodb.writer import ConditionFailed, Writer
from app.store.paging import PageFiller

# An update that completes a key is computed from a read: when the order changed in between,
# read and decide again, this often at most.
MAX_TRANSACTION_ROUNDS = 5
READINESS_KEY = {PK: "#readiness", SK: "#readiness"}  # never written

logger = logging.getLogger("app.store.dynamodb")

# A listing's FilterExpression by its ``cancelled`` argument (":cancelled" is CANCELLED).
_CANCELLED_FILTER: dict[bool | None, str | None] = {
    None: None,
    True: "#status = :cancelled",
    False: "#status <> :cancelled",
}


def _new_write_id() -> str:
    return uuid.uuid4().hex


def _conflict(order_id: UUID, current: dict[str, Any] | None) -> Exception:
    """What a failed condition on an order means: gone (404) or in another state."""
    return OrderNotFound(order_id) if current is None else StateConflict(to_order(current))


class DynamoDBStore:
    """One connection pool per store (so per process / Lambda environment), opened at startup."""

    # A filtered listing reads this many items per Query (Limit counts items before the filter)
    # and stops after this many Queries, so one page costs bounded time and read capacity; a page
    # cut short that way says where to resume (``Page.resume_after``).
    filtered_batch = 100
    max_queries = 20

    def __init__(self, config: DynamoDBConfig, *, connections: Connections | None = None) -> None:
        """``connections``: what requests go through instead of a pool of real connections."""
        self.config = config
        self._connections = connections
        self._tls: ssl.SSLContext | None = None
        self._http: Transport | None = None
        self._api = TableAPI(config)
        self._writer = Writer(self._api, config.retry)
        self._records = IdempotencyRecords(self._api, self._writer)

    @classmethod
    def from_url(cls, url: str) -> DynamoDBStore:
        return cls(DynamoDBConfig.from_url(url))

    @property
    def client(self) -> DynamoDBClient:
        if self._api.client is None:
            raise RuntimeError("DynamoDBStore used before open()")
        return self._api.client

    async def open(self) -> None:
        """Create the connection pool. No request is made: the table is created by the deployment
        (or ``app.store.dynamodb.admin`` locally), so a cold start pays no round trip.

        Credentials come from the standard chain, looked up on the first call: environment
        keys (Lambda without SnapStart, local runs), the shared credentials file, then the
        container endpoint with its authorization token (Lambda with SnapStart sets only
        ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``),
        whose short-lived keys are fetched again before they expire.
        """
        cfg = self.config
        if self._tls is None:  # once per process (certifi's cacert.pem costs ~20 ms to load)
            self._tls = client_context()
        connections = self._connections
        if connections is None:
            connections = proxied(connection_pool(self._tls), self._tls)
        self._http = Transport(connections, connect=cfg.connect_timeout, read=cfg.read_timeout)
        self._api.client = DynamoDBClient(
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

        real = self._api.client
        http = Transport(InMemoryTable(), connect=1.0, read=1.0)
        keys = ContainerMetadataCredentials(full_uri=URL(CREDENTIALS_URL), auth_token=None)
        self._api.client = DynamoDBClient(
            http, keys, self.config.region, endpoint=self.config.endpoint
        )
        try:
            yield
        finally:
            self._api.client = real

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
            self._api.client = None

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
        response = await self._api.send(
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
        completion = None if completes is None else complete_record(order.owner, completes, order)
        try:
            await self._writer.write(
                put_order(order, _new_write_id()), completes=completion, operation="add"
            )
        except ConditionFailed:
            raise RuntimeError(f"Order id {order.id} already exists") from None

    async def get(self, owner: str, order_id: UUID) -> Order | None:
        item = await Retrier(self.config.retry, "get")(
            partial(self._api.get_item, order_key(owner, order_id))
        )
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
        change = partial(
            update_order,
            owner,
            order_id,
            allowed_from=allowed_from,
            status=status,
            items=items,
            expected_version=expected_version,
        )
        if completes is not None:
            return await self._update_completing(owner, order_id, change, status, items, completes)
        try:
            written = await self._writer.write(change(write_id=_new_write_id()), operation="update")
        except ConditionFailed as failed:
            raise _conflict(order_id, failed.current) from None
        assert written is not None  # noqa: S101 - an update alone returns ALL_NEW
        return to_order(written)

    async def _update_completing(
        self,
        owner: str,
        order_id: UUID,
        change: Callable[..., Write],
        status: Status | None,
        items: tuple[OrderItem, ...] | None,
        completes: Completion,
    ) -> Order:
        """The update in one transaction with the key's completion, which must hold the order it
        results in (a transaction returns no values): read, compute the new order, and write on
        the update's own condition plus one that the version is still the one read."""
        current: Order
        for _ in range(MAX_TRANSACTION_ROUNDS):
            found = await self.get(owner, order_id)
            if found is None:
                raise OrderNotFound(order_id)
            current = found
            new = dataclasses.replace(
                current,
                status=current.status if status is None else status,
                items=current.items if items is None else items,
                version=current.version + 1,
            )
            try:
                await self._writer.write(
                    change(write_id=_new_write_id(), read_version=current.version),
                    completes=complete_record(owner, completes, new),
                    operation="update",
                )
            except ConditionFailed as failed:
                if failed.current is None or int(failed.current["version"]) == current.version:
                    raise _conflict(order_id, failed.current) from None  # the rules said no
                continue  # the order changed since it was read: decide again
            return new
        raise StateConflict(current)

    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        try:
            await self._writer.write(
                delete_order(owner, order_id, expected_version), operation="delete"
            )
        except ConditionFailed as failed:
            if failed.current is not None:
                raise StateConflict(to_order(failed.current)) from None  # at another version
            # Gone. After an attempt that may have applied, that was most likely our own
            # delete whose answer was lost: deleting is idempotent, so report success.
            if not failed.maybe_applied:
                raise OrderNotFound(order_id) from None

    # --- idempotency keys ---------------------------------------------------------------

    async def claim_idempotency(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        token: str,
        now: datetime,
        lease_until: datetime,
    ) -> IdempotencyRecord | None:
        return await self._records.claim(
            owner, key, fingerprint, token=token, now=now, lease_until=lease_until
        )

    async def release_idempotency(self, owner: str, key: str, token: str) -> None:
        await self._records.release(owner, key, token)

    @property
    def budget(self) -> float:
        return self.config.retry.budget

    async def check(self) -> None:
        """One eventually consistent GetItem of a key never written: the table answers."""
        policy = replace(self.config.retry, budget=min(READINESS_BUDGET, self.config.retry.budget))
        payload = {"Key": py2dy(READINESS_KEY), "ConsistentRead": False}
        try:
            await Retrier(policy, "readiness check")(partial(self._api.send, "GetItem", payload))
        except StoreRefused:  # logged: a store that refuses its simplest read is not ready
            raise StoreUnavailable(retry_after=MISCONFIGURED_RETRY_AFTER) from None

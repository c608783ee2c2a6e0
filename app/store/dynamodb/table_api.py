"""One table's calls: a signed request whose errors are sorted (``errors``), and an item read."""

from __future__ import annotations

import logging
from typing import Any

from aiodynamo.utils import dy2py, py2dy

from app.domain.orders import StoreRefused, StoreUnavailable
from app.store.dynamodb.client import DynamoDBClient
from app.store.dynamodb.config import DynamoDBConfig
from app.store.dynamodb.errors import classify, handled_by_the_store, misconfiguration, refusal

# Seconds a client is told to wait when the store is misconfigured: an operator must act.
MISCONFIGURED_RETRY_AFTER = 30

logger = logging.getLogger("app.store.dynamodb")


class TableAPI:
    """The store's table on its client (set while the store is open)."""

    def __init__(self, config: DynamoDBConfig) -> None:
        self.config = config
        self.client: DynamoDBClient | None = None

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One request (every action but a transaction names the table itself).

        An error no retry can fix is a 503 (misconfigured) or a refusal, each logged in one
        line; transient errors and failed conditions are the caller's to handle.
        """
        if self.client is None:
            raise RuntimeError("DynamoDBStore used before open()")
        if action != "TransactWriteItems":
            payload = {"TableName": self.config.table, **payload}
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

    async def get_item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item at ``key`` (plain values), read consistently; None when there is none."""
        response = await self.send("GetItem", {"Key": py2dy(key), "ConsistentRead": True})
        return dy2py(response["Item"], int) if "Item" in response else None

"""Idempotency records in the orders table: claimed, read and released here, completed in the
transaction that writes the order (``payloads.complete_record`` through ``writer``).

A record shares the owner's partition (``pk`` = owner, ``sk`` = ``IDEMPOTENCY#<key>``), so keys
are per owner and order Queries (``begins_with(sk, "ORDER#")``) never see it. ``expires_at`` is
the table's TTL attribute: a lease while the first request is in flight, then 24 hours; since TTL
deletion is lazy, every condition also compares it with the current time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from app.contract.table import TTL_ATTRIBUTE
from app.domain.idempotency import ClaimLost, IdempotencyRecord
from app.store.dynamodb.items import to_order
from app.store.dynamodb.payloads import (
    FINGERPRINT,
    RESULT,
    claim_record,
    release_record,
)
from app.store.dynamodb.table_api import TableAPI
from app.store.dynamodb.writer import ConditionFailed, Writer


class IdempotencyRecords:
    """Claims and releases keys with single conditional writes."""

    def __init__(self, api: TableAPI, writer: Writer) -> None:
        self._api = api
        self._writer = writer

    async def claim(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        token: str,
        now: datetime,
        lease_until: datetime,
    ) -> IdempotencyRecord | None:
        """None when claimed; else the live record that holds the key.

        The claim carries the attempt's token, so a retry that finds the record a write whose
        answer was lost made recognises it as its own (``writer``).
        """
        write = claim_record(owner, key, fingerprint, now=now, lease_until=lease_until, token=token)
        try:
            await self._writer.write(write, operation="claim")
        except ConditionFailed as failed:
            if failed.current is None:
                raise ClaimLost from None  # released in between
            return self.record(key, failed.current)
        return None

    async def release(self, owner: str, key: str, token: str) -> None:
        try:
            await self._writer.write(release_record(owner, key, token), operation="release")
        except ConditionFailed:
            return  # not ours, or already completed: nothing to release

    @staticmethod
    def record(key: str, item: dict[str, Any]) -> IdempotencyRecord:
        result = item.get(RESULT)
        return IdempotencyRecord(
            key=key,
            fingerprint=str(item[FINGERPRINT]),
            expires_at=datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), UTC),
            result=None if result is None else to_order(json.loads(result)),
        )

"""Idempotency records in the orders table, and the transactions that complete them.

A record shares the owner's partition (``pk`` = owner, ``sk`` = ``IDEMPOTENCY#<key>``), so keys
are per owner and order Queries (``begins_with(sk, "ORDER#")``) never see it. ``expires_at`` is
the table's TTL attribute: a lease while the first request is in flight, then 24 hours; since TTL
deletion is lazy, every condition also compares it with the current time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiodynamo.errors import ConditionalCheckFailed, TransactionCanceled
from aiodynamo.utils import dy2py, py2dy

from app.contract.table import TTL_ATTRIBUTE
from app.domain.idempotency import ClaimLost, Completion, IdempotencyRecord
from app.domain.orders import Order
from app.store.dynamodb.expressions import with_expressions
from app.store.dynamodb.items import PK, SK, to_item, to_order
from app.store.dynamodb.table import IDEMPOTENCY_PREFIX

Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

FINGERPRINT, RESULT = "fingerprint", "result"
# An in-flight claim's lease in epoch milliseconds (the TTL attribute counts whole seconds, rounded
# up for TTL, which would keep a lapsed claim up to two seconds too long), and its attempt's token.
LEASE_MS, CLAIM_TOKEN = "lease_ms", "claim_token"
# The record is this request's (same fingerprint) and not completed yet.
OURS_AND_OPEN = f"#{FINGERPRINT} = :fingerprint AND attribute_not_exists(#{RESULT})"


def record_key(owner: str, key: str) -> dict[str, Any]:
    return {PK: owner, SK: f"{IDEMPOTENCY_PREFIX}{key}"}


def _epoch(moment: datetime, *, up: bool) -> int:
    """Whole seconds, rounded so that an expiry never comes early."""
    seconds = moment.timestamp()
    return math.ceil(seconds) if up else math.floor(seconds)


def _epoch_ms(moment: datetime, *, up: bool) -> int:
    """Whole milliseconds, rounded as ``_epoch`` rounds seconds."""
    ms = moment.timestamp() * 1000
    return math.ceil(ms) if up else math.floor(ms)


def completion(table: str, owner: str, completes: Completion, result: Order) -> dict[str, Any]:
    """The TransactItems entry that completes a claimed key with ``result``."""
    snapshot = json.dumps(to_item(result, write_id=""), separators=(",", ":"))
    entry = {"TableName": table, "Key": py2dy(record_key(owner, completes.key))}
    update = with_expressions(
        entry,
        {
            "result": snapshot,
            "expires": _epoch(completes.expires_at, up=True),
            "fingerprint": completes.fingerprint,
        },
        UpdateExpression=(
            f"SET #{RESULT} = :result, #{TTL_ATTRIBUTE} = :expires REMOVE #{LEASE_MS}"
        ),
        ConditionExpression=OURS_AND_OPEN,
    )
    return {"Update": update}


def cancelled_because_claim_lost(error: TransactionCanceled) -> bool:
    """Whether the last item of a cancelled transaction (the key's record) failed its check."""
    reasons = error.cancellation_reasons
    return (
        bool(reasons) and reasons[-1] is not None and reasons[-1].code == "ConditionalCheckFailed"
    )


def raise_claim_lost(error: TransactionCanceled) -> None:
    if cancelled_because_claim_lost(error):
        raise ClaimLost from None


class IdempotencyRecords:
    """Claims and releases keys with single conditional writes."""

    def __init__(self, send: Send) -> None:
        self._send = send

    async def claim(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        now: datetime,
        lease_until: datetime,
        token: str,
    ) -> IdempotencyRecord | None:
        """Claim the key unless a live record holds it; None when claimed.

        ``token`` is this request's, the same for every attempt: when an earlier attempt's
        write was applied but its answer lost, the record found is recognised as ours.
        """
        item = {
            **record_key(owner, key),
            FINGERPRINT: fingerprint,
            TTL_ATTRIBUTE: _epoch(lease_until, up=True),
            LEASE_MS: _epoch_ms(lease_until, up=True),
            CLAIM_TOKEN: token,
        }
        payload = with_expressions(
            {"Item": py2dy(item), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
            {"now": _epoch(now, up=False), "now_ms": _epoch_ms(now, up=False)},
            # A claim lapses by its lease; a completed record (no lease) by its expiry.
            ConditionExpression=(
                f"attribute_not_exists(#{PK}) OR #{LEASE_MS} <= :now_ms OR #{TTL_ATTRIBUTE} <= :now"
            ),
        )
        try:
            await self._send("PutItem", payload)
        except ConditionalCheckFailed as failure:
            body = failure.args[0] if failure.args else None
            if isinstance(body, dict) and "Item" in body:
                held = dy2py(body["Item"], int)
                if held.get(CLAIM_TOKEN) == token and RESULT not in held:
                    return None  # our own claim, applied by an attempt whose answer was lost
                return self.record(key, held)
            current = await self.get(owner, key)
            if current is None:
                raise ClaimLost from None  # released in between
            return current
        return None

    async def get(self, owner: str, key: str) -> IdempotencyRecord | None:
        response = await self._send(
            "GetItem", {"Key": py2dy(record_key(owner, key)), "ConsistentRead": True}
        )
        return self.record(key, dy2py(response["Item"], int)) if "Item" in response else None

    async def release(self, owner: str, key: str, fingerprint: str) -> None:
        payload = with_expressions(
            {"Key": py2dy(record_key(owner, key))},
            {"fingerprint": fingerprint},
            ConditionExpression=OURS_AND_OPEN,
        )
        try:
            await self._send("DeleteItem", payload)
        except ConditionalCheckFailed:
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

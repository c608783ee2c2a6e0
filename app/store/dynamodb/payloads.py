"""Every conditional write of the store, as plain data: what item, what change, on what condition.

Builders only (no I/O): ``writer`` sends a ``Write`` alone, or in one transaction with the
completion of an idempotency key. The rules of a change (which statuses it may leave, which
version it expects) are in its condition expression, checked by DynamoDB in both cases.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from aiodynamo.utils import py2dy

from app.contract.table import TTL_ATTRIBUTE
from app.domain.idempotency import Completion
from app.domain.orders import Order, OrderItem, Status
from app.store.codec import dump_items
from app.store.dynamodb.expressions import with_expressions
from app.store.dynamodb.items import PK, SK, WRITE_ID, order_key, to_item
from app.store.dynamodb.table import IDEMPOTENCY_PREFIX

FINGERPRINT, RESULT = "fingerprint", "result"
# An in-flight claim's lease in epoch milliseconds (the TTL attribute counts whole seconds, rounded
# up for TTL, which would keep a lapsed claim up to two seconds too long), and its request's token.
LEASE_MS, CLAIM_TOKEN = "lease_ms", "claim_token"
# The record is this attempt's claim (its token: a retry of the same request has the same
# fingerprint but a claim of its own) and not completed yet.
OURS_AND_OPEN = f"#{CLAIM_TOKEN} = :token AND attribute_not_exists(#{RESULT})"


@dataclass(frozen=True, slots=True)
class Write:
    """One conditional write of one item.

    ``stamp`` (attribute, value) is written with it, unique to the request: when a retry's
    condition fails on an item that carries it, an earlier attempt applied the write.
    """

    kind: Literal["Put", "Update", "Delete"]
    key: dict[str, Any]  # plain values
    request: dict[str, Any]  # Item or Key, and the expressions, in DynamoDB's JSON
    stamp: tuple[str, str] | None = None

    def alone(self) -> tuple[str, dict[str, Any]]:
        """The action and payload of the write as a request of its own."""
        payload = {**self.request, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if self.kind == "Update":
            payload["ReturnValues"] = "ALL_NEW"
        return f"{self.kind}Item", payload

    def in_transaction(self, table: str) -> dict[str, Any]:
        """The write as an entry of ``TransactWriteItems``."""
        entry = {"TableName": table, **self.request}
        return {self.kind: {**entry, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def _epoch(moment: datetime, *, up: bool, unit: int = 1) -> int:
    """Whole seconds (or ``unit``-ths of one), rounded so that an expiry never comes early."""
    scaled = moment.timestamp() * unit
    return math.ceil(scaled) if up else math.floor(scaled)


def put_order(order: Order, write_id: str) -> Write:
    item = to_item(order, write_id)
    request = with_expressions(
        {"Item": py2dy(item)}, ConditionExpression=f"attribute_not_exists(#{PK})"
    )
    return Write("Put", order_key(order.owner, order.id), request, (WRITE_ID, write_id))


def _exists_at(expected_version: int | None) -> tuple[str, dict[str, Any]]:
    """A condition that the order exists (at ``expected_version``, when given), and its values."""
    if expected_version is None:
        return f"attribute_exists(#{PK})", {}
    return f"attribute_exists(#{PK}) AND #version = :expected", {"expected": expected_version}


def update_order(
    owner: str,
    order_id: UUID,
    *,
    allowed_from: Collection[Status],
    status: Status | None,
    items: tuple[OrderItem, ...] | None,
    expected_version: int | None,
    write_id: str,
    read_version: int | None = None,
) -> Write:
    """Set status and/or items and bump the version, if the order's status is in
    ``allowed_from`` (and its version ``expected_version``, and ``read_version`` when the new
    order was computed from a read, as a key's completion needs it)."""
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
    if read_version is not None:
        condition += " AND #version = :read"
        values["read"] = read_version
    key = order_key(owner, order_id)
    request = with_expressions(
        {"Key": py2dy(key)},
        values,
        UpdateExpression="SET " + ", ".join(changes),
        ConditionExpression=condition,
    )
    return Write("Update", key, request, (WRITE_ID, write_id))


def delete_order(owner: str, order_id: UUID, expected_version: int | None) -> Write:
    condition, values = _exists_at(expected_version)
    key = order_key(owner, order_id)
    request = with_expressions({"Key": py2dy(key)}, values, ConditionExpression=condition)
    return Write("Delete", key, request)


def record_key(owner: str, key: str) -> dict[str, Any]:
    return {PK: owner, SK: f"{IDEMPOTENCY_PREFIX}{key}"}


def claim_record(
    owner: str, key: str, fingerprint: str, *, now: datetime, lease_until: datetime, token: str
) -> Write:
    """Claim ``key`` for a request (``token``) until ``lease_until``, unless a live record
    holds it: a claim lapses by its lease, a completed record (no lease) by its expiry."""
    item = {
        **record_key(owner, key),
        FINGERPRINT: fingerprint,
        TTL_ATTRIBUTE: _epoch(lease_until, up=True),
        LEASE_MS: _epoch(lease_until, up=True, unit=1000),
        CLAIM_TOKEN: token,
    }
    request = with_expressions(
        {"Item": py2dy(item)},
        {"now": _epoch(now, up=False), "now_ms": _epoch(now, up=False, unit=1000)},
        ConditionExpression=(
            f"attribute_not_exists(#{PK}) OR #{LEASE_MS} <= :now_ms OR #{TTL_ATTRIBUTE} <= :now"
        ),
    )
    return Write("Put", record_key(owner, key), request, (CLAIM_TOKEN, token))


def release_record(owner: str, key: str, token: str) -> Write:
    """Drop the attempt's claim (``token``), unless it was completed or is another attempt's."""
    request = with_expressions(
        {"Key": py2dy(record_key(owner, key))},
        {"token": token},
        ConditionExpression=OURS_AND_OPEN,
    )
    return Write("Delete", record_key(owner, key), request)


def complete_record(owner: str, completes: Completion, result: Order) -> Write:
    """Complete the claimed key with ``result`` (in the transaction that writes it)."""
    snapshot = json.dumps(to_item(result, write_id=""), separators=(",", ":"))
    request = with_expressions(
        {"Key": py2dy(record_key(owner, completes.key))},
        {
            "result": snapshot,
            "expires": _epoch(completes.expires_at, up=True),
            "token": completes.token,
        },
        UpdateExpression=f"SET #{RESULT} = :result, #{TTL_ATTRIBUTE} = :expires REMOVE #{LEASE_MS}",
        ConditionExpression=OURS_AND_OPEN,
    )
    return Write("Update", record_key(owner, completes.key), request)

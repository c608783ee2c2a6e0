"""The one path by which the store writes an item: a conditional ``Write`` (``payloads``), alone
or in one ``TransactWriteItems`` with the completion of an idempotency key, retried within the
budget. Either way a failed condition comes back the same: the item as it was."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiodynamo.errors import ConditionalCheckFailed, TransactionCanceled
from aiodynamo.utils import dy2py

from app.domain.idempotency import ClaimLost
from app.store.dynamodb.config import RetryPolicy
from app.store.dynamodb.payloads import Write
from app.store.dynamodb.retry import Retrier
from app.store.dynamodb.table_api import TableAPI


class ConditionFailed(Exception):
    """A write's condition was false. ``current``: the item then (None: there was none);
    ``maybe_applied``: an earlier attempt of this write may have been applied."""

    def __init__(self, current: dict[str, Any] | None, *, maybe_applied: bool) -> None:
        super().__init__("condition failed")
        self.current = current
        self.maybe_applied = maybe_applied


def _old_item(body: object) -> dict[str, Any] | None:
    """The item a failed condition was evaluated on, when DynamoDB returned it (ALL_OLD)."""
    if isinstance(body, dict) and "Item" in body:
        return dy2py(body["Item"], int)
    return None


class Writer:
    def __init__(self, api: TableAPI, policy: RetryPolicy) -> None:
        self._api = api
        self._policy = policy

    async def write(
        self, write: Write, *, completes: Write | None = None, operation: str
    ) -> dict[str, Any] | None:
        """Apply ``write``, with ``completes`` in the same transaction when given.

        Returns the item as written (an update's, when alone), ``ConditionFailed`` when the
        write's condition was false, ``ClaimLost`` when only the completion's was. A condition
        that fails on the write's own stamp is an earlier attempt applied, its answer lost:
        that counts as success.
        """
        retry = Retrier(self._policy, operation)
        table = self._api.config.table

        async def attempt() -> dict[str, Any] | None:
            try:
                if completes is None:
                    response = await self._api.send(*write.alone())
                    written = response.get("Attributes")
                    return None if written is None else dy2py(written, int)
                entries = [write.in_transaction(table), completes.in_transaction(table)]
                await self._api.send("TransactWriteItems", {"TransactItems": entries})
                return None
            except ConditionalCheckFailed as failure:
                current = _old_item(failure.args[0] if failure.args else None)
            except TransactionCanceled as cancelled:
                reasons = cancelled.body.get("CancellationReasons") or [{}]
                if reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise ClaimLost from None  # the item's condition held; the key's did not
                current = _old_item(reasons[0])
            if current is None:
                # Without ALL_OLD the item was missing (or the endpoint ignores the option): a
                # read tells which, without a race where the item, once gone, stays gone.
                current = await retry(partial(self._api.get_item, write.key))
            if retry.maybe_applied and current is not None and write.stamp is not None:
                attribute, value = write.stamp
                if current.get(attribute) == value:
                    return current
            raise ConditionFailed(current, maybe_applied=retry.maybe_applied)

        return await retry(attempt)

"""The one interface every order store implements, and the factory that picks one by URL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit
from uuid import UUID

from app.domain.idempotency import Completion, IdempotencyRecord
from app.domain.orders import Order, OrderItem, Page, Status


class OrderStore(Protocol):
    """Async persistence of orders, always scoped to one owner.

    ``budget``: seconds within which a keyed request's claim, write and release end (each call
    inside ``app.store.budget.one_budget`` waits no longer), and so its claim's lease.

    Conditional writes are atomic: ``update`` applies only when the order exists, belongs to
    ``owner``, has a status in ``allowed_from`` and (when given) the ``expected_version``.
    Otherwise it raises ``OrderNotFound`` (missing or another owner's) or ``StateConflict``
    (exists, carrying the current order), so that of concurrent writers exactly one wins.
    """

    @property
    def budget(self) -> float: ...

    async def open(self) -> None:
        """Connect and create the schema if needed. Called once at startup."""

    async def close(self) -> None:
        """Release connections. Called once at shutdown."""

    async def add(self, order: Order, *, completes: Completion | None = None) -> None:
        """Insert a new order (its id is new: time-ordered UUIDv7).

        With ``completes``, the claimed idempotency key is completed with this order in the
        same atomic write (``ClaimLost`` and nothing written if the claim is no longer held).
        """

    async def get(self, owner: str, order_id: UUID) -> Order | None:
        """The owner's order, or None when missing or another owner's."""

    async def list(
        self,
        owner: str,
        *,
        cancelled: bool | None,
        limit: int,
        before: UUID | None,
        max_bytes: int | None = None,
    ) -> Page:
        """Up to ``limit`` of the owner's orders older than ``before``, newest first, together
        at most ``max_bytes`` by ``app.store.paging.encoded_size`` (at least one, if any).

        ``cancelled`` keeps only cancelled (True) or only non-cancelled (False) orders.
        A page is short only when no older matching order exists or the next would not fit.
        """

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
        """Set the status and/or items conditionally, bump the version, return the new order.

        ``completes`` works as for ``add``: the key is completed atomically with the update.
        """

    async def delete(
        self, owner: str, order_id: UUID, *, expected_version: int | None = None
    ) -> None:
        """Delete the owner's order (at ``expected_version`` when given).

        Raises ``OrderNotFound`` when there is none to delete, ``StateConflict`` when the
        order is at another version.
        """

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
        """Claim ``key`` for a request, atomically. None: claimed (new, or the old record had
        expired). Otherwise the live record, in flight or done, that holds the key.

        ``token`` is the attempt's own (unique per claim): only a ``Completion`` or a release
        with that token applies to the claim, so a late release of an earlier attempt with the
        same fingerprint never drops a later attempt's claim.

        Raises ``ClaimLost`` when the claim failed because the key was held, but the record
        was gone when read back (released in between): the caller may try again.
        """

    async def release_idempotency(self, owner: str, key: str, token: str) -> None:
        """Drop the in-flight claim ``token`` made (never a completed record, never another
        attempt's claim) so the key can be used again;
        raise when that could not be done (``app.store.claims`` then waits out the lease)."""

    async def check(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers; cheap (a readiness probe)."""


STORE_URL_FORMS = (
    "sqlite:///<relative path>, sqlite:////<absolute path> or "
    "dynamodb://<table>[?region=<region>&endpoint=<url>]"
)


def check_store_url(url: str) -> None:
    """Raise ``ValueError`` saying what is wrong unless ``url`` names a store (connects nowhere)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from app.store.sqlite import path_from_url

        path_from_url(url)
    elif scheme == "dynamodb":
        from app.store.dynamodb.config import DynamoDBConfig

        DynamoDBConfig.from_url(url)
    else:
        raise ValueError(f"not a store URL; use {STORE_URL_FORMS}")


@runtime_checkable
class Reconnects(Protocol):
    """A store that holds connections or credentials it can drop (for a SnapStart restore)."""

    async def reconnect(self) -> None:
        """Forget pooled connections and cached credentials; open new ones on the next call."""


def open_store(url: str) -> OrderStore:
    """Build (not yet connect) the store a URL names.

    ``sqlite:///path`` or ``dynamodb://<table>?region=<r>&endpoint=<url>``. Each backend's
    client library is imported only when its scheme is chosen.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from app.store.sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if scheme == "dynamodb":
        from app.store.dynamodb.store import DynamoDBStore

        return DynamoDBStore.from_url(url)
    raise ValueError(f"Unsupported store URL scheme {scheme!r} in {url!r}; use {STORE_URL_FORMS}")

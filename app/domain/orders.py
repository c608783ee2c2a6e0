"""The order domain: entities, the status machine and domain errors. No I/O, no framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    BIG = "big"


class Status(StrEnum):
    CREATED = "created"
    PAID = "paid"
    PROGRESS = "progress"
    CANCELLED = "cancelled"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"


class Action(StrEnum):
    """What a caller may do to an existing order, each allowed only from some statuses."""

    REPLACE = "replace"
    PAY = "pay"
    CANCEL = "cancel"


ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.REPLACE: frozenset({Status.CREATED}),
    Action.PAY: frozenset({Status.CREATED}),
    Action.CANCEL: frozenset({Status.CREATED, Status.PAID}),
}

RESULTING_STATUS: dict[Action, Status | None] = {
    Action.REPLACE: None,
    Action.PAY: Status.PAID,
    Action.CANCEL: Status.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class OrderItem:
    product: str
    size: Size
    quantity: int


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored. ``version`` counts writes (1 at creation) for conditional updates."""

    id: UUID
    owner: str
    created: datetime
    status: Status
    items: tuple[OrderItem, ...]
    version: int = 1


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing, newest first; ``more`` says whether older orders follow.

    ``resume_after`` is set by a store that stopped looking before the page was full (a bounded
    filtered scan): the id of the last order it examined, where the next page must resume.
    """

    orders: list[Order]
    more: bool
    resume_after: UUID | None = None


class DomainError(Exception):
    """Base of every error the service raises on purpose."""


class OrderNotFound(DomainError):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"Order {order_id} not found")
        self.order_id = order_id


class InvalidTransition(DomainError):
    def __init__(self, action: Action, status: Status) -> None:
        super().__init__(f"Cannot {action} an order whose status is {status}")
        self.action = action
        self.status = status


class PreconditionFailed(DomainError):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"Order {order_id} does not match If-Match; fetch it again")
        self.order_id = order_id


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid pagination cursor")


class StoreUnavailable(DomainError):
    """The data store did not answer in time; the request changed nothing and may be retried."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("The order store is temporarily unavailable; retry later")
        self.retry_after = retry_after


class StoreRefused(DomainError):
    """The data store will never accept the request as sent; it changed nothing."""

    def __init__(self) -> None:
        super().__init__("The order store could not accept this request")


class StateConflict(Exception):
    """Raised by a store when a conditional write found the order in another state."""

    def __init__(self, current: Order) -> None:
        super().__init__(f"Order {current.id} is {current.status} at version {current.version}")
        self.current = current

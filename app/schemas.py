"""The HTTP contract: request and response bodies, exactly as the CoffeeMesh API defines them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.orders import Order, OrderItem, Size, Status

MAX_QUANTITY = 1_000_000
MAX_PRODUCT_LENGTH = 200
MAX_ITEMS = 100

# Blank = Unicode White_Space plus U+FEFF, spelled out: "\S" means three different things in
# pydantic's Rust regex, Python's re and the ECMA-262 regex of JSON Schema validators.
BLANK = r"\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = f"[^{BLANK}]"

Product = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=MAX_PRODUCT_LENGTH,
        pattern=NOT_BLANK,
        description="Product name; must contain a non-blank character.",
        examples=["cappuccino"],
    ),
]


def _integral_number(value: object) -> object:
    """JSON does not tell 3 from 3.0 (JSON Schema's ``integer`` admits both): take 3.0 as 3."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Quantity = Annotated[
    int, Field(strict=True, ge=1, le=MAX_QUANTITY), BeforeValidator(_integral_number)
]


class OrderItemSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: Product
    size: Size
    quantity: Quantity = 1

    def to_domain(self) -> OrderItem:
        return OrderItem(product=self.product, size=self.size, quantity=self.quantity)


class CreateOrderSchema(BaseModel):
    """Body of POST /orders and PUT /orders/{order_id}."""

    model_config = ConfigDict(extra="forbid")

    order: list[OrderItemSchema] = Field(min_length=1, max_length=MAX_ITEMS)

    def items(self) -> list[OrderItem]:
        return [item.to_domain() for item in self.order]


class GetOrderSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    created: AwareDatetime
    status: Status
    order: list[OrderItemSchema]

    @classmethod
    def from_domain(cls, order: Order) -> GetOrderSchema:
        return cls.model_construct(
            id=order.id,
            created=order.created,
            status=order.status,
            order=[
                OrderItemSchema.model_construct(product=i.product, size=i.size, quantity=i.quantity)
                for i in order.items
            ],
        )


class GetOrdersSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[GetOrderSchema]


class HealthSchema(BaseModel):
    status: str = "ok"


class ErrorSchema(BaseModel):
    """Every error response: ``detail`` is a message or a list of validation errors."""

    detail: str | list[dict[str, object]]

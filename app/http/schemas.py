"""The HTTP contract: request and response bodies, exactly as the CoffeeMesh API defines them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.domain.orders import Order, OrderItem, Size, Status

MAX_QUANTITY = 1_000_000
MAX_PRODUCT_LENGTH = 200
MAX_ITEMS = 100

# Spelled out, never as \s or \S: those mean three different things in pydantic's Rust regex,
# Python's re and the ECMA-262 regex of JSON Schema validators.
CONTROL = r"\x00-\x1f\x7f-\x9f"  # C0, DEL and C1: refused anywhere in a name
# White space (Unicode White_Space that is no control) and the characters that render as
# nothing (Unicode Default_Ignorable_Code_Point, as far as the Basic Multilingual Plane goes):
# a name needs at least one character that is neither.
BLANK = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
INVISIBLE = (
    r"\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
)
PRODUCT_PATTERN = f"^[^{CONTROL}]*[^{CONTROL}{BLANK}{INVISIBLE}][^{CONTROL}]*$"

Product = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=MAX_PRODUCT_LENGTH,
        pattern=PRODUCT_PATTERN,
        description="Product name: no control character, and at least one visible character "
        "(neither white space nor one that renders as nothing, such as U+200B).",
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
    """An item of a request: ``quantity`` may be left out (1)."""

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


class GetOrderItemSchema(BaseModel):
    """An item of a response: ``quantity`` is always there (generated clients type it so)."""

    model_config = ConfigDict(extra="forbid")

    product: Product
    size: Size
    quantity: Quantity


class GetOrderSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    created: AwareDatetime
    status: Status
    order: list[GetOrderItemSchema]

    @classmethod
    def from_domain(cls, order: Order) -> GetOrderSchema:
        return cls.model_construct(
            id=order.id,
            created=order.created,
            status=order.status,
            order=[
                GetOrderItemSchema.model_construct(
                    product=i.product, size=i.size, quantity=i.quantity
                )
                for i in order.items
            ],
        )


class GetOrdersSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[GetOrderSchema]


class HealthSchema(BaseModel):
    # Always in the answer: required in the response's schema.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: str = "ok"


class ErrorSchema(BaseModel):
    """Every error response: ``detail`` is a message or a list of validation errors."""

    detail: str | list[dict[str, object]]


class GatewayErrorSchema(BaseModel):
    """An answer of API Gateway itself, before the function runs (its JWT authorizer, its
    throttling): ``{"message": "Unauthorized"}``, ``{"message": "Too Many Requests"}``."""

    message: str

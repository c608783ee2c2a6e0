"""The CoffeeMesh Orders API routes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.contract.metrics import REPLAYED_HEADER
from app.domain.idempotency import MAX_KEY_LENGTH
from app.domain.orders import Order
from app.http.deps import IfMatchVersions, Owner, Service
from app.http.etag import etag
from app.http.json_bodies import StrictJSONRoute
from app.http.links import path_to, url_to
from app.http.openapi import error_response
from app.http.schemas import CreateOrderSchema, GetOrderSchema, GetOrdersSchema
from app.service import Outcome

router = APIRouter(prefix="/orders", tags=["orders"], route_class=StrictJSONRoute)

MAX_PAGE = 100
# A page's JSON stays under 1 MiB (DynamoDB's own Query page): even if the Lambda runtime's
# marshalling triples it (non-ASCII as \uXXXX), the 6 MB response limit is never reached.
MAX_PAGE_BYTES = 1024 * 1024


ERROR_DESCRIPTIONS = {
    400: "Invalid pagination cursor",
    404: "No such order for this caller",
    409: "The order's status does not allow this, or its Idempotency-Key is in flight",
    412: "If-Match names none of the order's current ETag",
    413: "Request body too large",
    422: "Invalid request",
    503: "Store temporarily unavailable; retry after Retry-After seconds",
}
COMMON_ERRORS = (413, 422, 503)
ETAG = {"ETag": "The order's entity tag, for If-Match"}
REPLAYED = {REPLAYED_HEADER: "true when this is the stored answer to an earlier request"}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        # Visible ASCII but the comma, which joins two Idempotency-Key lines into one.
        pattern=r"^[\x21-\x2b\x2d-\x7e]+$",
        description="Makes the request safe to retry: the same key and body return the first "
        "answer for 24 h; the same key with another body is 422; while the first is in flight, "
        "409. One key: visible ASCII without a comma.",
    ),
]


def _link(operation_id: str, description: str, *, conditional: bool = True) -> dict[str, Any]:
    """An OpenAPI Link Object to ``operation_id``, fed the id of the order in the response.

    A write is linked with ``If-Match`` set to the response's ETag: it applies to the order
    as the client saw it, or answers 412.
    """
    parameters = {"order_id": "$response.body#/id"}
    if conditional:
        parameters["header.If-Match"] = "$response.header.ETag"
    return {"operationId": operation_id, "parameters": parameters, "description": description}


# What a client can do next with an order it got back (OpenAPI links, as the CoffeeMesh contract
# names them; followed by clients and by the stateful fuzz run).
ORDER_LINKS = {
    "GetOrder": _link(
        "getOrder",
        "The `id` in the response is the `order_id` of `GET /orders/{order_id}`.",
        conditional=False,
    ),
    "UpdateOrder": _link(
        "updateOrder", "`PUT /orders/{order_id}` this order, as of its `ETag` (`If-Match`)."
    ),
    "PayOrder": _link(
        "payOrder", "`POST /orders/{order_id}/pay` this order, as of its `ETag` (`If-Match`)."
    ),
    "CancelOrder": _link(
        "cancelOrder",
        "`POST /orders/{order_id}/cancel` this order, as of its `ETag` (`If-Match`).",
    ),
    "DeleteOrder": _link(
        "deleteOrder", "`DELETE /orders/{order_id}` this order, as of its `ETag` (`If-Match`)."
    ),
}


def _responses(
    *errors: int,
    success: int = 200,
    headers: dict[str, str] | None = None,
    links: dict[str, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries: every error this operation can answer, its success headers and links."""
    docs: dict[int | str, dict[str, Any]] = {
        code: error_response(ERROR_DESCRIPTIONS[code]) for code in (*errors, *COMMON_ERRORS)
    }
    ok: dict[str, Any] = {}
    if headers:
        ok["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    if links:
        ok["links"] = links
    if ok:
        docs[success] = ok
    return docs


@router.post(
    "",
    operation_id="createOrder",
    status_code=status.HTTP_201_CREATED,
    responses=_responses(
        409,
        success=201,
        headers={"Location": "URL of the new order", **ETAG, **REPLAYED},
        links=ORDER_LINKS,
    ),
    response_description="The new order",
)
async def create_order(
    body: CreateOrderSchema,
    owner: Owner,
    service: Service,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> GetOrderSchema:
    """Place an order. With an ``Idempotency-Key``, retries return the first answer."""
    outcome = await service.create(owner, body.items(), idempotency_key=idempotency_key)
    response.headers["Location"] = path_to(request, "get_order", order_id=outcome.order.id)
    return _shaped(outcome, response)


@router.get(
    "",
    operation_id="getOrders",
    responses=_responses(400, headers={"Link": 'Next page: <url>; rel="next" (RFC 8288)'}),
)
async def list_orders(
    owner: Owner,
    service: Service,
    request: Request,
    response: Response,
    cancelled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=64, description="From a Link rel=next")] = None,
) -> GetOrdersSchema:
    """The caller's orders, newest first; the next page is in the ``Link: rel="next"`` header."""
    listing = await service.list(
        owner, cancelled=cancelled, limit=limit, cursor=cursor, max_bytes=MAX_PAGE_BYTES
    )
    if listing.next_cursor is not None:
        query = {"limit": str(limit), "cursor": listing.next_cursor}
        if cancelled is not None:
            query = {"cancelled": str(cancelled).lower(), **query}
        response.headers["Link"] = f'<{url_to(request, "list_orders", query)}>; rel="next"'
    return GetOrdersSchema(orders=[GetOrderSchema.from_domain(o) for o in listing.orders])


@router.get(
    "/{order_id}",
    operation_id="getOrder",
    responses=_responses(404, headers=ETAG, links=ORDER_LINKS),
)
async def get_order(
    order_id: UUID, owner: Owner, service: Service, response: Response
) -> GetOrderSchema:
    """One order; its ``ETag`` makes later writes conditional (``If-Match``)."""
    return _shaped(await service.get(owner, order_id), response)


@router.put(
    "/{order_id}",
    operation_id="updateOrder",
    responses=_responses(404, 409, 412, headers=ETAG, links=ORDER_LINKS),
)
async def replace_order(
    order_id: UUID,
    body: CreateOrderSchema,
    owner: Owner,
    service: Service,
    if_match: IfMatchVersions,
    response: Response,
) -> GetOrderSchema:
    """Replace the items of an order that is still ``created``."""
    order = await service.replace(owner, order_id, body.items(), if_match=if_match)
    return _shaped(order, response)


@router.delete(
    "/{order_id}",
    operation_id="deleteOrder",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_responses(404, 412),
)
async def delete_order(
    order_id: UUID, owner: Owner, service: Service, if_match: IfMatchVersions
) -> Response:
    """Delete an order."""
    await service.delete(owner, order_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{order_id}/pay",
    operation_id="payOrder",
    responses=_responses(404, 409, 412, headers={**ETAG, **REPLAYED}, links=ORDER_LINKS),
)
async def pay_order(
    order_id: UUID,
    owner: Owner,
    service: Service,
    if_match: IfMatchVersions,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> GetOrderSchema:
    """Pay an order that is ``created``. With an ``Idempotency-Key``, retries replay."""
    outcome = await service.pay(owner, order_id, if_match=if_match, idempotency_key=idempotency_key)
    return _shaped(outcome, response)


@router.post(
    "/{order_id}/cancel",
    operation_id="cancelOrder",
    responses=_responses(404, 409, 412, headers=ETAG, links=ORDER_LINKS),
)
async def cancel_order(
    order_id: UUID, owner: Owner, service: Service, if_match: IfMatchVersions, response: Response
) -> GetOrderSchema:
    """Cancel an order that is ``created`` or ``paid``."""
    return _shaped(await service.cancel(owner, order_id, if_match=if_match), response)


def _shaped(result: Order | Outcome, response: Response) -> GetOrderSchema:
    """The order as the contract shows it; its version travels in the ETag header."""
    order = result.order if isinstance(result, Outcome) else result
    if isinstance(result, Outcome) and result.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    response.headers["ETag"] = etag(order)
    return GetOrderSchema.from_domain(order)

"""The routes' dependencies, in one place: the service, the caller, the If-Match condition.

Each is an ``Annotated`` alias a route names as a parameter type; each reads what the
composition root (``app.main.create_app``) put on ``app.state``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.http.etag import if_match_versions
from app.identity.providers import IdentityProvider
from app.service import OrdersService


# async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, and under
# Lambda every invocation would start a new one (anyio ties its workers to the root task).
async def get_service(request: Request) -> OrdersService:
    service: OrdersService = request.app.state.service
    return service


async def current_owner(request: Request) -> str:
    """The caller's owner id, from the provider chosen at the composition root."""
    provider: IdentityProvider = request.app.state.identity
    owner = await provider(request)
    request.state.owner = owner  # for the per-request log line, never the response
    return owner


Service = Annotated[OrdersService, Depends(get_service)]
Owner = Annotated[str, Depends(current_owner)]
IfMatchVersions = Annotated[frozenset[int] | None, Depends(if_match_versions)]

"""The greeting and health routes: public; only a readiness check reaches the store."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from app.config import Settings
from app.http.openapi import error_response
from app.http.schemas import HealthSchema
from app.service import OrdersService

router = APIRouter(tags=["meta"])

GREETING = "Hello, async FastAPI!"


@router.get("/hi", operation_id="getGreeting")
async def hi(request: Request) -> str:
    """Greet after a simulated data-store delay (``GREET_DELAY`` seconds), never blocking."""
    # Read from app.state directly: a sub-dependency costs a second solve per request on the
    # hottest route (docs/performance.md).
    settings: Settings = request.app.state.settings
    if settings.greet_delay:
        await asyncio.sleep(settings.greet_delay)
    return GREETING


READINESS_ERRORS: dict[int | str, dict[str, Any]] = {
    422: error_response("Invalid request"),
    503: error_response("?ready=1: the store does not answer"),
}


@router.get("/health", operation_id="getHealth", responses=READINESS_ERRORS)
async def health(request: Request, ready: bool = False) -> HealthSchema:
    """Liveness: answers without touching the store. With ``?ready=1``, readiness (for a load
    balancer): 503 unless the store answers, within a second."""
    if ready:
        service: OrdersService = request.app.state.service
        await service.check_store()
    return HealthSchema()

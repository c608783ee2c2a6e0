"""The greeting and health routes: public, no store round trip."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from app.config import Settings
from app.schemas import HealthSchema

router = APIRouter(tags=["meta"])

GREETING = "Hello, async FastAPI!"


@router.get("/hi")
async def hi(request: Request) -> str:
    """Greet after a simulated data-store delay (``GREET_DELAY`` seconds), never blocking."""
    # Read from app.state directly: a sub-dependency costs a second solve per request (~10 %
    # of a warm Lambda call on this route).
    settings: Settings = request.app.state.settings
    if settings.greet_delay:
        await asyncio.sleep(settings.greet_delay)
    return GREETING


@router.get("/health")
async def health() -> HealthSchema:
    """Liveness: answers without touching the store."""
    return HealthSchema()

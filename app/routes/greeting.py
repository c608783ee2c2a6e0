"""The greeting and health routes: public, no store round trip."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from app.deps import AppSettings
from app.schemas import HealthSchema

router = APIRouter(tags=["meta"])

GREETING = "Hello, async FastAPI!"


@router.get("/hi")
async def hi(settings: AppSettings) -> str:
    """Greet after a simulated data-store delay (``GREET_DELAY`` seconds), never blocking."""
    if settings.greet_delay:
        await asyncio.sleep(settings.greet_delay)
    return GREETING


@router.get("/health")
async def health() -> HealthSchema:
    """Liveness: answers without touching the store."""
    return HealthSchema()

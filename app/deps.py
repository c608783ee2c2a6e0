"""Annotated dependencies shared by the routes: what the composition root put on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.service import OrdersService


# async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, and under
# Lambda every invocation would start a new one (anyio ties its workers to the root task).
async def get_service(request: Request) -> OrdersService:
    service: OrdersService = request.app.state.service
    return service


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Service = Annotated[OrdersService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_settings)]

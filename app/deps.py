"""Annotated dependencies shared by the routes: what the composition root put on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.service import OrdersService


def get_service(request: Request) -> OrdersService:
    service: OrdersService = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Service = Annotated[OrdersService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_settings)]

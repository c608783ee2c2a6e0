"""The interactive documentation page, pointing at the OpenAPI document relative to itself."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

TITLE = "CoffeeMesh Orders API - Swagger UI"


@router.get("/docs")
async def docs() -> HTMLResponse:
    """Swagger UI. ``openapi.json`` is relative, so it resolves under any mount point: no stage,
    a named stage, or a custom domain's API mapping, which an HTTP API 2.0 event never shows."""
    return get_swagger_ui_html(openapi_url="openapi.json", title=TITLE)

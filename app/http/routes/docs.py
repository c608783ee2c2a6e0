"""The interactive documentation page, pointing at the OpenAPI document relative to itself.

Swagger UI's script and style come from the ``fastapi-offline`` package when it is installed
(the ``local`` extra: ``make run`` and ``make gateway``), so the page works without internet;
the Lambda bundle leaves the package out (it would take the zip past its 5 MiB budget; see
docs/aws.md) and the page loads them from the CDN, as FastAPI does by default.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response

router = APIRouter(include_in_schema=False)

TITLE = "CoffeeMesh Orders API - Swagger UI"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
ASSET_CACHE = "public, max-age=86400"


@cache
def local_assets() -> Path | None:
    """The folder of Swagger UI's files from ``fastapi-offline``, if the package is installed."""
    spec = find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static"
    return folder if all((folder / name).is_file() for name in ASSETS) else None


@router.get("/docs")
async def docs(asset: str | None = None) -> Response:
    """Swagger UI, or with ``?asset=<name>`` one of its files (404 for any other name, or without
    the package). The files share the page's route, so the gateway's route table needs nothing
    more, and every URL is relative: it resolves under any mount point (no stage, a named stage,
    or a custom domain's API mapping, which an HTTP API 2.0 event never shows)."""
    folder = local_assets()
    if asset is not None:
        if folder is None or asset not in ASSETS:
            raise HTTPException(status_code=404)
        return FileResponse(
            folder / asset, media_type=ASSETS[asset], headers={"cache-control": ASSET_CACHE}
        )
    if folder is None:
        return get_swagger_ui_html(openapi_url="openapi.json", title=TITLE)
    return get_swagger_ui_html(
        openapi_url="openapi.json",
        title=TITLE,
        swagger_js_url="docs?asset=swagger-ui-bundle.js",
        swagger_css_url="docs?asset=swagger-ui.css",
        swagger_favicon_url="docs?asset=favicon.png",
    )

"""The smallest Starlette + Mangum Lambda app: one route, no lifespan (FastAPI without FastAPI)."""

from __future__ import annotations

from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hi(request: Request) -> JSONResponse:
    return JSONResponse("Hello, async FastAPI!")


app = Starlette(routes=[Route("/hi", hi)])
handler = Mangum(app, lifespan="off")

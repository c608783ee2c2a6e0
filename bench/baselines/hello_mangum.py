"""The smallest FastAPI + Mangum Lambda app: one route, no lifespan, Mangum's defaults."""

from __future__ import annotations

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/hi")
async def hi() -> str:
    return "Hello, async FastAPI!"


handler = Mangum(app, lifespan="off")

"""Baseline local app: the minimal FastAPI hello world, served by the same uvicorn settings."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/hi")
async def hi() -> str:
    return "Hello, async FastAPI!"

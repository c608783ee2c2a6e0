"""Request bodies are JSON text in UTF-8 without a byte order mark (RFC 8259 §8.1).

Starlette's ``Request.json`` hands the raw bytes to ``json.loads``, which also reads UTF-16
and UTF-32 and skips a UTF-8 byte order mark. Routes built with ``StrictJSONRoute`` decode
their bodies strictly instead; anything else is FastAPI's 422 ``json_invalid``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        raw = await self.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("Body is not UTF-8", "", exc.start) from None
        return json.loads(text)  # a leading U+FEFF (a byte order mark) is a JSONDecodeError


class StrictJSONRoute(APIRoute):
    """An ``APIRoute`` whose JSON body, if it takes one, must be UTF-8 JSON text."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler  # no body to read: no wrapper on the way

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict

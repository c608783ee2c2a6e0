"""The one way an error is written: JSON ``{"detail": ...}``, wherever it is made.

The app's exception handlers (``app.http.errors``) answer with it, and so does everything that
answers outside them: the body limit, the Lambda adapter, the server's drain cut-off and its
own protocol errors. ``answer_if_not_started`` is the one guard that turns an app's failure
into such an answer while no response has started. Plain ASGI: nothing of FastAPI is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[str, str]
# status, detail, extra headers; None: let the error propagate.
Answer = tuple[int, str, tuple[Header, ...]]
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def error_body(detail: object) -> bytes:
    """``{"detail": detail}`` encoded as the app's JSON responses are (compact UTF-8).

    A lone surrogate quoted from a Lambda event (JSON can carry ``"\\ud800"``; UTF-8 cannot)
    is written as its JSON escape, so an error about a bad input never fails to be sent.
    """
    return _encode({"detail": detail}).encode("utf-8", "backslashreplace")


def printable(text: str) -> str:
    """``text`` with what UTF-8 cannot spell (lone surrogates) as ``\\udXXX`` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def send_error(send: Send, status: int, detail: object, *headers: Header) -> None:
    """Answer an ASGI HTTP request with a JSON error: content type, length, then ``headers``."""
    body = error_body(detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def answer_if_not_started(
    app: ASGIApp,
    errors: type[BaseException] | tuple[type[BaseException], ...],
    answer: Callable[[Scope, BaseException, bool], Answer | None],
) -> ASGIApp:
    """``app`` whose failures (``errors``) are answered as JSON errors while none has started.

    On such a failure ``answer(scope, error, started)`` (called inside the ``except`` block, so
    it may log the traceback) names the answer; the error propagates when the response had
    started or ``answer`` returns None. An ``Exception`` after a *complete* response is dropped:
    the app answered it already (Starlette's error middleware answers, then re-raises).
    """

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        progress = {"started": False, "complete": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                progress["complete"] = True
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except errors as error:
            if progress["complete"] and isinstance(error, Exception):
                return
            reply = answer(scope, error, progress["started"])
            if progress["started"] or reply is None:
                raise
            status, detail, headers = reply
            await send_error(send, status, detail, *headers)

    return guarded

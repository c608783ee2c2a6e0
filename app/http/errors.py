"""Every exception the app raises becomes a JSON error, mapped to its status here and nowhere else.

The answer itself is written by ``app.http.answers``, as every JSON error is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.domain.idempotency import IdempotencyKeyReused, RequestInFlight
from app.domain.orders import (
    DomainError,
    InvalidCursor,
    InvalidTransition,
    OrderNotFound,
    PreconditionFailed,
    StoreRefused,
    StoreUnavailable,
)
from app.http.answers import error_body
from app.http.middleware.unexpected import UnexpectedErrorMiddleware
from app.identity.exceptions import JWKSUnavailable
from app.identity.providers import NotAuthenticated

logger = logging.getLogger("app.errors")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    IdempotencyKeyReused: 422,
    RequestInFlight: 409,
    OrderNotFound: 404,
    InvalidTransition: 409,
    PreconditionFailed: 412,
    InvalidCursor: 400,
    StoreUnavailable: 503,
    StoreRefused: 500,  # logged by the store, in one line
}


async def not_authenticated(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotAuthenticated)  # noqa: S101
    return _error(exc.status, exc.detail, {"WWW-Authenticate": exc.challenge})


async def identity_unavailable(request: Request, exc: Exception) -> Response:
    logger.error("identity provider unavailable: %s", exc)
    return _error(503, "Identity provider unavailable; retry later", {"Retry-After": "5"})


def _error(status: int, detail: object, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(detail), status, headers, media_type="application/json")


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    status = next((code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)), None)
    if status is None:  # a domain error nobody mapped: a bug (UnexpectedErrorMiddleware)
        raise exc
    headers = None
    if isinstance(exc, StoreUnavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, RequestInFlight):
        headers = {"Retry-After": "1"}  # an in-flight claim lasts one store budget at most
    return _error(status, str(exc), headers)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (FastAPI's default names only one route's).

    HEAD is served wherever GET is (``app.http.middleware.head``).
    """
    routes = request.app.router.routes
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": "GET" if method == "HEAD" else method})[0]
            is Match.FULL
            for route in routes
        )
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI answers 400 for a JSON body it could not parse for any reason other than a
        # JSONDecodeError (not UTF-8, nested deeper than the parser recurses): malformed JSON.
        return _error(422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}])
    return _error(exc.status_code, exc.detail, headers or None)


# What a 422 echoes is bounded, whatever the body: a body of 64 KiB with a thousand unknown
# fields was answered with a thousand errors, ten times its size.
MAX_ERRORS = 20
MAX_ECHO = 64  # characters of a field name (from the request) in an error's ``loc``


def _echo(part: object) -> object:
    if isinstance(part, str) and len(part) > MAX_ECHO:
        return part[:MAX_ECHO] + "…"
    return part


def validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first ``MAX_ERRORS`` of pydantic's errors as the 422 lists them (type, loc, msg,
    ctx; never the input), with field names cut to ``MAX_ECHO`` characters, and one more entry
    saying how many were left out."""
    shown: list[dict[str, Any]] = []
    for err in errors[:MAX_ERRORS]:
        entry = {key: err[key] for key in ("type", "loc", "msg") if key in err}
        entry["loc"] = [_echo(part) for part in entry.get("loc", ())]
        if "ctx" in err:
            entry["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
        shown.append(entry)
    if len(errors) > MAX_ERRORS:
        left_out = len(errors) - MAX_ERRORS
        msg = f"{left_out} more errors not listed"
        where = list(errors[MAX_ERRORS].get("loc", ()))[:1]  # "body", "query", ...
        shown.append({"type": "too_many_errors", "loc": where, "msg": msg})
    return shown


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return _error(422, validation_errors(exc.errors()))


def register_error_handlers(app: FastAPI) -> None:
    """The app's error answers; a bug is answered by ``UnexpectedErrorMiddleware``, added here:
    outside every layer added before this call (Starlette's own handler for ``Exception``
    re-raises to the server, which then closes the keep-alive connection)."""
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(NotAuthenticated, not_authenticated)
    app.add_exception_handler(JWKSUnavailable, identity_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)

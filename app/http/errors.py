"""Every error becomes a JSON ``{"detail": ...}`` response, mapped here and nowhere else."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.domain.idempotency import IdempotencyKeyReused, RequestInFlight
from app.domain.orders import (
    DomainError,
    InvalidCursor,
    InvalidTransition,
    OrderNotFound,
    PreconditionFailed,
    StoreUnavailable,
)
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
}


async def not_authenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotAuthenticated)  # noqa: S101
    return _error(exc.status, exc.detail, {"WWW-Authenticate": exc.challenge})


async def identity_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("identity provider unavailable: %s", exc)
    return _error(503, "Identity provider unavailable; retry later", {"Retry-After": "5"})


def _error(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    status = next((code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)), None)
    if status is None:  # a domain error nobody mapped: a bug, answered as one
        return await unexpected_error(request, exc)
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


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI answers 400 for a JSON body it could not parse for any reason other than a
        # JSONDecodeError (not UTF-8, nested deeper than the parser recurses): malformed JSON.
        return _error(422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}])
    return _error(exc.status_code, exc.detail, headers or None)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [
        {key: value for key, value in err.items() if key in ("type", "loc", "msg", "ctx")}
        for err in exc.errors()
    ]
    for err in errors:
        if "ctx" in err:
            err["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
    return _error(422, errors)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "Internal Server Error")


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(NotAuthenticated, not_authenticated)
    app.add_exception_handler(JWKSUnavailable, identity_unavailable)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)

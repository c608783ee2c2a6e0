"""The composition root: ``create_app(settings)`` wires store, service and identity."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Protocol, runtime_checkable

from fastapi import FastAPI

from app.config import Settings, load_settings
from app.contract import cors
from app.http.errors import register_error_handlers
from app.http.middleware.body_limit import BodyLimitMiddleware
from app.http.middleware.head import HeadAsGetMiddleware
from app.http.middleware.header_lines import CombinedHeaderLinesMiddleware
from app.http.openapi import complete_document
from app.http.routes import docs, greeting, orders
from app.identity.providers import (
    DemandsCredentials,
    DevIdentity,
    GatewayIdentity,
    IdentityProvider,
    JwtIdentity,
)
from app.service import OrdersService
from app.store import OrderStore, open_store

ROUTERS = (greeting.router, orders.router, docs.router)  # the hot route first

logger = logging.getLogger("app")


@runtime_checkable
class SupportsAclose(Protocol):
    async def aclose(self) -> None: ...


def build_identity(settings: Settings) -> IdentityProvider:
    """The identity provider the settings name (one seam for every mode)."""
    if settings.identity_mode == "jwt":
        from app.identity.jwks import jwks_cache_for
        from app.identity.verifier import JWTVerifier

        assert settings.jwt_issuer is not None  # noqa: S101 - Settings validated it
        keys = jwks_cache_for(settings.jwt_issuer, settings.jwt_jwks_url)
        verifier = JWTVerifier(
            issuer=settings.jwt_issuer,
            audiences=settings.audiences(),
            keys=keys,
            scopes=settings.scopes(),
        )
        return JwtIdentity(verifier)
    if settings.identity_mode == "gateway":
        return GatewayIdentity()
    identity = DevIdentity(settings.dev_owner)
    identity.announce()
    return identity


def create_app(
    settings: Settings | None = None,
    *,
    store: OrderStore | None = None,
    identity: IdentityProvider | None = None,
) -> FastAPI:
    """Build the ASGI app. Nothing connects until startup (the lifespan)."""
    settings = settings or load_settings()
    logger.setLevel(settings.log_level)
    # httpx (the JWKS fetch) logs each call at INFO, a line beside the request's own; failures
    # reach the app's log as errors, the calls show at DEBUG. The store's httpcore logs at DEBUG.
    logging.getLogger("httpx").setLevel(
        logging.INFO if settings.log_level == "DEBUG" else logging.WARNING
    )
    store = store if store is not None else open_store(settings.store_url)
    identity = identity if identity is not None else build_identity(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as resources:
            await store.open()
            resources.push_async_callback(store.close)
            if isinstance(identity, SupportsAclose):
                resources.push_async_callback(identity.aclose)
            logger.info("app started (%s open)", type(store).__name__)
            yield
        logger.info("app stopped: store closed")

    app = FastAPI(
        # The modules' routes are the app's own, not included routers: FastAPI 0.165 serves
        # each included router through a wrapper route that matches every request a second
        # time (measured in docs/performance.md).
        routes=[route for router in ROUTERS for route in router.routes],
        title="CoffeeMesh Orders API",
        version="0.1.0",
        description="Async orders service for uvicorn and AWS Lambda.",
        lifespan=lifespan,
        docs_url=None,  # app/http/routes/docs.py serves /docs with a mount-independent URL
        redoc_url=None,  # one documentation page, the same through API Gateway and offline
    )
    app.state.settings = settings
    app.state.store = store
    app.state.service = OrdersService(store)
    app.state.identity = identity
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGetMiddleware)
    if settings.metrics == "emf":
        from app.http.middleware.emf import EmfMetricsMiddleware

        # Outermost of the app's middleware: a 413 is measured too.
        app.add_middleware(EmfMetricsMiddleware, stage=settings.stage)
    register_error_handlers(app)  # and the bug guard, outside the layers above, inside CORS
    scheme = identity.openapi_scheme if isinstance(identity, DemandsCredentials) else None
    complete_document(app, scheme)
    if settings.cors_origins:  # added last: outermost, so that 401s and 413s reach the page too
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, **cors.middleware_options(settings.origins()))
    app.add_middleware(CombinedHeaderLinesMiddleware)  # outermost: every layer sees one line
    return app

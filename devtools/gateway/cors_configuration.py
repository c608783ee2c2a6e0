"""API Gateway's CORS configuration for an HTTP API, as the service applies it.

From "Configuring CORS for an HTTP API" (API Gateway developer guide): with CORS configured,
API Gateway answers a preflight ``OPTIONS`` itself, with no OPTIONS route needed; CORS headers
are returned only to a request with an ``Origin`` (a preflight also needs
``Access-Control-Request-Method``); it adds the configured headers to the integration's response
and ignores any CORS headers the integration returns. A route that matches the preflight and
has an authorizer still runs it first (which is why the stack gives every protected path an
unauthenticated ``OPTIONS`` route: ``app/contract/gateway_routes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import Response

from app.contract import cors


@dataclass(frozen=True, slots=True)
class CorsConfiguration:
    """The API's ``CorsConfiguration``: origins from settings, the rest from the policy."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = cors.ALLOW_METHODS
    allow_headers: tuple[str, ...] = cors.ALLOW_HEADERS
    expose_headers: tuple[str, ...] = cors.EXPOSE_HEADERS
    max_age: int = cors.MAX_AGE_SECONDS

    def allows(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def allowed_origin(self, origin: str) -> str:
        return "*" if "*" in self.allow_origins else origin


def is_preflight(method: str, headers: Headers) -> bool:
    return (
        method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers
    )


def preflight_response(config: CorsConfiguration, headers: Headers) -> Response:
    """API Gateway's own answer to a preflight: 204, with the policy when the origin is allowed."""
    response = Response(status_code=204)
    origin = headers["origin"]
    if config.allows(origin):
        response.headers.update(
            {
                "access-control-allow-origin": config.allowed_origin(origin),
                "access-control-allow-methods": ",".join(config.allow_methods),
                "access-control-allow-headers": ",".join(config.allow_headers),
                "access-control-max-age": str(config.max_age),
            }
        )
    return response


def apply_cors(config: CorsConfiguration, headers: Headers, response: Response) -> None:
    """Replace the integration's CORS headers with the configured ones (allowed origins only)."""
    response.raw_headers[:] = [
        (name, value)
        for name, value in response.raw_headers
        if not name.startswith(b"access-control-")
    ]
    origin = headers.get("origin")
    if origin is None or not config.allows(origin):
        return
    response.headers["access-control-allow-origin"] = config.allowed_origin(origin)
    response.headers["access-control-expose-headers"] = ",".join(config.expose_headers)

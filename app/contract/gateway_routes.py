"""The route table API Gateway exposes: which paths are public and which need a verified JWT.

One source for the CDK stack, the Lambda identity check and the local gateway emulator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GatewayRoute:
    method: str  # an HTTP method, or "ANY"
    path: str  # API Gateway route path; "{proxy+}" is a greedy path variable
    public: bool
    cors_only: bool = False  # routed only when the API has a CORS configuration

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


# Public paths take ANY method so that a wrong method reaches the app and gets its JSON 405
# with an Allow header, as locally, rather than API Gateway's own 404 for an unrouted method.
GATEWAY_ROUTES: tuple[GatewayRoute, ...] = (
    GatewayRoute("ANY", "/hi", public=True),
    GatewayRoute("ANY", "/health", public=True),
    GatewayRoute("ANY", "/docs", public=True),
    GatewayRoute("ANY", "/openapi.json", public=True),
    GatewayRoute("ANY", "/orders", public=False),
    GatewayRoute("ANY", "/orders/{proxy+}", public=False),
    # A browser's CORS preflight carries no token: an ANY route with the authorizer would refuse
    # it (401) before API Gateway's CORS configuration answers it, so OPTIONS is routed apart.
    # Without CORS there is no preflight to answer: a token-less OPTIONS would only invoke (and
    # bill) the function, so these routes exist only with CORS.
    GatewayRoute("OPTIONS", "/orders", public=True, cors_only=True),
    GatewayRoute("OPTIONS", "/orders/{proxy+}", public=True, cors_only=True),
)

# Paths whose every method is public (the OpenAPI document demands no credentials on them).
PUBLIC_PATHS: frozenset[str] = frozenset(
    r.path for r in GATEWAY_ROUTES if r.public and r.method == "ANY"
)


def gateway_routes(*, cors: bool) -> tuple[GatewayRoute, ...]:
    """The routes of an API with (``cors``) or without a CORS configuration."""
    return tuple(r for r in GATEWAY_ROUTES if cors or not r.cors_only)


def match_route(
    method: str, path: str, *, cors: bool = True
) -> tuple[GatewayRoute | None, dict[str, str] | None]:
    """The route API Gateway picks for ``method path``, and its path parameters.

    ``(None, None)`` when no route matches (API Gateway answers 404). An exact path wins over
    a greedy ``{proxy+}``; a route for the method wins over ``ANY``. ``cors``: whether the API
    has a CORS configuration (and so the preflight routes).
    """
    best: tuple[int, GatewayRoute, dict[str, str] | None] | None = None
    for route in gateway_routes(cors=cors):
        if route.method not in ("ANY", method):
            continue
        rank = 0 if route.method == method else 1
        if route.path.endswith("/{proxy+}"):
            base = route.path.removesuffix("/{proxy+}")
            if not (path.startswith(base + "/") and len(path) > len(base) + 1):
                continue
            rank += 2
            parameters: dict[str, str] | None = {"proxy": path[len(base) + 1 :]}
        elif path == route.path:
            parameters = None
        else:
            continue
        if best is None or rank < best[0]:
            best = (rank, route, parameters)
    return (best[1], best[2]) if best else (None, None)

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

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


GATEWAY_ROUTES: tuple[GatewayRoute, ...] = (
    GatewayRoute("GET", "/hi", public=True),
    GatewayRoute("GET", "/health", public=True),
    GatewayRoute("GET", "/docs", public=True),
    GatewayRoute("GET", "/openapi.json", public=True),
    GatewayRoute("ANY", "/orders", public=False),
    GatewayRoute("ANY", "/orders/{proxy+}", public=False),
)

PUBLIC_PATHS: frozenset[str] = frozenset(r.path for r in GATEWAY_ROUTES if r.public)

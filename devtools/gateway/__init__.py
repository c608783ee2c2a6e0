"""A local API Gateway (HTTP API) in front of the Lambda handler: ``make gateway``.

Each HTTP request goes through what API Gateway does for the stack (routes and JWT
authorizer from ``app/contract/gateway_routes.py``, its limits), becomes a payload-2.0 event, and
is served by the local Lambda runtime (``lambda_service``) or the handler in-process; the proxy
response becomes the HTTP response.
"""

from __future__ import annotations

from devtools.gateway.function import LambdaContext
from devtools.gateway.server import GatewayConfig, create_gateway

__all__ = ["GatewayConfig", "LambdaContext", "create_gateway"]

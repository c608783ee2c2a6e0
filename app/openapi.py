"""The OpenAPI document says what this deployment answers, authentication included.

Routes declare their own responses; what depends on the identity mode is added here, once: with
a verifying identity provider every non-public operation (``app.gateway_routes``) requires its
security scheme and may answer 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.gateway_routes import PUBLIC_PATHS

SCHEME_NAME = "bearer"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
UNAUTHORIZED = {
    "description": "Missing or invalid credentials",
    "headers": {
        "WWW-Authenticate": {
            "description": 'The Bearer challenge (RFC 6750), e.g. Bearer error="invalid_token"',
            "schema": {"type": "string"},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorSchema"}}},
}


def require_authentication(app: FastAPI, scheme: dict[str, Any]) -> None:
    """Make ``app``'s document demand ``scheme`` (and document 401) on every private operation."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _secure(generate(), scheme)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _secure(document: dict[str, Any], scheme: dict[str, Any]) -> None:
    document.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME_NAME] = scheme
    for path, item in document.get("paths", {}).items():
        if path in PUBLIC_PATHS:
            continue
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation["security"] = [{SCHEME_NAME: []}]
            operation["responses"]["401"] = UNAUTHORIZED

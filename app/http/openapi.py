"""The OpenAPI document says what this deployment answers, authentication included.

Routes declare their own responses, error bodies by reference to one ``ErrorSchema`` component
(``error_response``: FastAPI builds a response field per ``model`` entry, about 40 for the same
model, which cost cold starts route-building time). What depends on the identity mode is added
here, once: with a verifying identity provider every non-public operation
(``app.contract.gateway_routes``) requires its security scheme and may answer 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.contract.gateway_routes import PUBLIC_PATHS
from app.http.schemas import ErrorSchema

SCHEME_NAME = "bearer"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
COMPONENTS = "#/components/schemas/{model}"


def error_response(description: str) -> dict[str, Any]:
    """A route's ``responses`` entry for an error: ``description``, with an ErrorSchema body."""
    reference = {"$ref": COMPONENTS.format(model=ErrorSchema.__name__)}
    return {"description": description, "content": {"application/json": {"schema": reference}}}


UNAUTHORIZED = {
    **error_response("Missing or invalid credentials"),
    "headers": {
        "WWW-Authenticate": {
            "description": 'The Bearer challenge (RFC 6750), e.g. Bearer error="invalid_token"',
            "schema": {"type": "string"},
        }
    },
}


def complete_document(app: FastAPI, scheme: dict[str, Any] | None) -> None:
    """Add the ErrorSchema component to ``app``'s document and, given a ``scheme``, demand it
    (and document 401) on every private operation."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas[ErrorSchema.__name__] = ErrorSchema.model_json_schema(ref_template=COMPONENTS)
            if scheme is not None:
                _secure(document, scheme)
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

"""The OpenAPI document says what this deployment answers, authentication included.

Routes declare their own responses, error bodies by reference to one ``ErrorSchema`` component
(``error_response``: FastAPI builds a response field per ``model`` entry, about 40 for the same
model, which cost cold starts route-building time). What depends on the identity mode is added
here, once: with a verifying identity provider every non-public operation
(``app.contract.gateway_routes``) requires its security scheme and may answer 401 or 403, and
every operation 429. A deployment's 401, 403 and 429 come from API Gateway (its authorizer, its
throttling) with API Gateway's own body, ``GatewayErrorSchema``; the app's own 401 and 403
(IDENTITY_MODE=jwt) are ``ErrorSchema``s: the document names both, as generated clients parse
what it names.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.contract.gateway_routes import PUBLIC_PATHS
from app.http.schemas import ErrorSchema, GatewayErrorSchema

SCHEME_NAME = "bearer"
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
COMPONENTS = "#/components/schemas/{model}"


def _body(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


APP_ERROR = {"$ref": COMPONENTS.format(model=ErrorSchema.__name__)}
GATEWAY_ERROR = {"$ref": COMPONENTS.format(model=GatewayErrorSchema.__name__)}


def error_response(description: str) -> dict[str, Any]:
    """A route's ``responses`` entry for an error: ``description``, with an ErrorSchema body."""
    return _body(description, APP_ERROR)


CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'The Bearer challenge (RFC 6750), e.g. Bearer error="invalid_token"',
        "schema": {"type": "string"},
    }
}
UNAUTHORIZED = {
    **_body("Missing or invalid credentials", {"anyOf": [APP_ERROR, GATEWAY_ERROR]}),
    "headers": CHALLENGE,
}
FORBIDDEN = {
    **_body("The token lacks a scope the API requires", {"anyOf": [APP_ERROR, GATEWAY_ERROR]}),
    "headers": CHALLENGE,
}
THROTTLED = _body("Too many requests: API Gateway's throttling", GATEWAY_ERROR)


def complete_document(app: FastAPI, scheme: dict[str, Any] | None) -> None:
    """Add the ErrorSchema component to ``app``'s document and, given a ``scheme``, demand it
    (and document 401 and 403) on every private operation, and API Gateway's 429 on all."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas[ErrorSchema.__name__] = ErrorSchema.model_json_schema(ref_template=COMPONENTS)
            if scheme is not None:
                schemas[GatewayErrorSchema.__name__] = GatewayErrorSchema.model_json_schema()
                _secure(document, scheme)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _secure(document: dict[str, Any], scheme: dict[str, Any]) -> None:
    document.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME_NAME] = scheme
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation["responses"]["429"] = THROTTLED
            if path in PUBLIC_PATHS:
                continue
            operation["security"] = [{SCHEME_NAME: []}]
            operation["responses"]["401"] = UNAUTHORIZED
            operation["responses"]["403"] = FORBIDDEN

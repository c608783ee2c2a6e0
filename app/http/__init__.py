"""The HTTP edge: thin routes, schemas, dependencies, errors as JSON, the OpenAPI document."""

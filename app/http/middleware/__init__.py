"""Plain ASGI middleware, one concern each: HEAD, the body limit, EMF metrics, request ids."""

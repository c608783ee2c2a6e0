"""Plain ASGI middleware, one concern each: HEAD, the body limit, repeated header lines, EMF
metrics, request ids."""

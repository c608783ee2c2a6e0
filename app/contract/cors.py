"""The CORS policy browsers get: one source for the stack, the local gateway and ``make run``.

Only the allowed origins vary by deployment (``cors-origins`` context for the stack,
``CORS_ORIGINS`` for the app and the local gateway); what a page may send and read is fixed here,
from what the contract uses: bearer tokens, JSON bodies, conditional writes and idempotent
retries in, entity tags, links, locations, replay flags and back-off hints out.
"""

from __future__ import annotations

from typing import Any

ALLOW_METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE")
ALLOW_HEADERS: tuple[str, ...] = ("authorization", "content-type", "if-match", "idempotency-key")
EXPOSE_HEADERS: tuple[str, ...] = ("etag", "location", "link", "idempotent-replayed", "retry-after")
MAX_AGE_SECONDS = 3600


def middleware_options(origins: tuple[str, ...]) -> dict[str, Any]:
    """Keyword arguments of Starlette's ``CORSMiddleware`` for this policy."""
    return {
        "allow_origins": list(origins),
        "allow_methods": list(ALLOW_METHODS),
        "allow_headers": list(ALLOW_HEADERS),
        "expose_headers": list(EXPOSE_HEADERS),
        "max_age": MAX_AGE_SECONDS,
    }

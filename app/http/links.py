"""URI references the API writes into headers (``Location``, ``Link``).

Each is built from the app's own route paths under the root path the server or the Lambda
adapter established (never from the path the client sent) and percent-encoded, so no text of
the request can end a ``<...>`` or break a header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request

# RFC 3986 pchar besides the unreserved characters (which quote() never escapes), and "/".
_PATH_SAFE = "/!$&'()*+,;=:@"


def path_to(request: Request, route: str, **path_params: Any) -> str:
    """The absolute path of ``route`` (with ``path_params``) where this request reached the app."""
    path = request.scope.get("root_path", "") + request.app.url_path_for(route, **path_params)
    return quote(path, safe=_PATH_SAFE, errors="strict")


def url_to(request: Request, route: str, query: Mapping[str, str]) -> str:
    """The absolute URL of ``route`` with exactly ``query``, on the scheme and host of the request.

    Starlette takes the host only from a well-formed ``Host`` header, else the server address.
    """
    base = request.base_url
    return f"{base.scheme}://{base.netloc}{path_to(request, route)}?{urlencode(query)}"

"""Entity tags for optimistic concurrency: ``ETag`` out, ``If-Match`` in (RFC 9110 §8.8, §13.1.1).

An order's entity tag is its version, a counter every write increments, so a client that sends
back the ETag it read can only change the order it saw.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from app.domain.orders import Order

_STRONG_TAG = re.compile(r'^"([0-9]{1,18})"$')


def etag(order: Order) -> str:
    return f'"{order.version}"'


def if_match_versions(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Apply only if the order\'s ETag is one of these ("*" = any); else 412.',
        ),
    ] = None,
) -> frozenset[int] | None:
    """The versions If-Match accepts: None for any; empty when no listed tag can match.

    If-Match uses the strong comparison, so weak tags (``W/"1"``) never match.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for tag in if_match.split(","):
        found = _STRONG_TAG.match(tag.strip())
        if found:
            versions.add(int(found.group(1)))
    return frozenset(versions)

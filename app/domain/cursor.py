"""Opaque pagination cursors: the id of the last order a page showed, URL-safe.

A cursor only says where a listing resumes; whose orders are listed always comes from the
caller's identity, so a forged cursor can at worst skip the caller's own orders.
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from app.domain.orders import InvalidCursor

_CURSOR_LEN = 22  # 16 bytes in unpadded base64url


def encode_cursor(last_id: UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> UUID:
    """The order id a cursor resumes after; ``InvalidCursor`` for anything we did not issue."""
    if len(cursor) != _CURSOR_LEN:
        raise InvalidCursor
    try:
        raw = base64.b64decode(cursor + "==", altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor from exc
    if len(raw) != 16:
        raise InvalidCursor
    order_id = UUID(bytes=raw)
    if order_id.version != 7 or encode_cursor(order_id) != cursor:
        raise InvalidCursor
    return order_id

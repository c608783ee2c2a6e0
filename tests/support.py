"""Test doubles that plug into the app's real seams (no patching of project code)."""

from __future__ import annotations

from fastapi import Request

TEST_USER_HEADER = "x-test-user"


class HeaderIdentity:
    """Test identity provider: the caller names itself in a header. Never used by the app."""

    async def __call__(self, request: Request) -> str:
        return request.headers.get(TEST_USER_HEADER, "alice")


def order_body(*products: str, size: str = "small", quantity: int = 1) -> dict[str, object]:
    return {
        "order": [
            {"product": p, "size": size, "quantity": quantity} for p in (products or ("latte",))
        ]
    }

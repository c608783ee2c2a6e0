"""Who is calling. One dependency (``current_owner``) asks the provider the app was built with."""

from __future__ import annotations

import logging
from typing import Annotated, Protocol

from fastapi import Depends, Request

logger = logging.getLogger("app.identity")


class IdentityProvider(Protocol):
    """Turns a request into the owner id that scopes every order operation."""

    async def __call__(self, request: Request) -> str: ...


class DevIdentity:
    """Every caller is the same development user. For local runs only."""

    def __init__(self, owner: str) -> None:
        self.owner = owner

    async def __call__(self, request: Request) -> str:
        return self.owner

    def announce(self) -> None:
        logger.warning(
            "identity mode 'dev': every request acts as the development user %r; "
            "no authentication is performed",
            self.owner,
        )


async def current_owner(request: Request) -> str:
    """The caller's owner id, from the provider chosen at the composition root."""
    provider: IdentityProvider = request.app.state.identity
    return await provider(request)


Owner = Annotated[str, Depends(current_owner)]

"""Order stores: one protocol, one implementation per backend, chosen by ``open_store``."""

from __future__ import annotations

from app.store.protocol import OrderStore, open_store

__all__ = ["OrderStore", "open_store"]

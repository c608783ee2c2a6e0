"""Typed settings, read from the environment once, at the composition root."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE_URL = "sqlite:///var/orders.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024


class Settings(BaseSettings):
    """Every knob of the service. Environment variables are the field names, upper-cased."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    greet_delay: float = Field(
        default=3.0, ge=0, le=25, description="Seconds GET /hi awaits (simulated data store)."
    )
    store_url: str = Field(
        default=DEFAULT_STORE_URL,
        description="Where orders live: sqlite:///<path> (relative) or sqlite:////<abs path>.",
    )
    identity_mode: Literal["dev", "gateway"] = Field(
        default="dev",
        description=(
            "Who the caller is: dev = one fixed development identity; gateway = the subject of "
            "the JWT API Gateway's authorizer verified (Lambda only)."
        ),
    )
    dev_owner: str = Field(
        default="dev-user", min_length=1, description="The owner used by identity_mode=dev."
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, ge=1, description="Largest request body accepted (413)."
    )
    log_level: str = Field(default="INFO", description="Level of the app's loggers.")


def env_name(field: str) -> str:
    """The environment variable that sets ``field`` (one source of truth for app and infra)."""
    if field not in Settings.model_fields:
        raise KeyError(field)
    return field.upper()

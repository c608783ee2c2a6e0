"""Typed settings, read from the environment once, at the composition root."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.auth.subject import subject_error

DEFAULT_STORE_URL = "sqlite:///var/orders.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
PRODUCTION = frozenset({"prod", "production"})


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
    identity_mode: Literal["dev", "jwt", "gateway"] = Field(
        default="dev",
        description=(
            "Who the caller is: dev = one fixed development identity; jwt = a verified bearer "
            "token's sub; gateway = the subject of the JWT API Gateway's authorizer verified "
            "(Lambda only)."
        ),
    )
    dev_owner: str = Field(
        default="dev-user", min_length=1, description="The owner used by identity_mode=dev."
    )
    stage: str = Field(
        default="dev", description="Deployment stage; dev identity is refused when it is prod."
    )
    jwt_issuer: str | None = Field(
        default=None, description="identity_mode=jwt: the OIDC issuer (iss) tokens must carry."
    )
    jwt_audience: str | None = Field(
        default=None,
        description="identity_mode=jwt: accepted audiences (aud, or Cognito's client_id), "
        "comma-separated.",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="identity_mode=jwt: the issuer's JWKS URL (default: OpenID discovery); "
        "file:<path> for the local development issuer.",
    )
    jwt_scopes: str | None = Field(
        default=None,
        description="identity_mode=jwt and the local gateway: scopes (comma-separated) of which "
        "a token's scope claim must hold one, as the stack's authorizer requires (an ID token "
        "has none); unset: no scope required.",
    )
    cors_origins: str | None = Field(
        default=None,
        description="Origins (comma-separated) whose pages may call the API (policy: app/cors.py); "
        "unset: no CORS. On Lambda, API Gateway's CORS configuration answers instead.",
    )
    aws_lambda_function_name: str | None = Field(
        default=None, description="Set by AWS Lambda; dev identity is refused there."
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, ge=1, description="Largest request body accepted (413)."
    )
    log_level: str = Field(default="INFO", description="Level of the app's loggers.")
    metrics: Literal["off", "emf"] = Field(
        default="off",
        description="Per-request CloudWatch metrics: emf = one Embedded Metric Format line per "
        "request on stdout (the Lambda default); off = none (the local default).",
    )

    @field_validator("dev_owner")
    @classmethod
    def _dev_owner_is_a_subject(cls, value: str) -> str:
        problem = subject_error(value)  # the rule every identity mode applies to an owner id
        if problem is not None:
            raise ValueError(f"the development owner {problem}")
        return value

    @model_validator(mode="after")
    def _identity_is_safe(self) -> Self:
        if self.identity_mode == "dev":
            if self.aws_lambda_function_name:
                raise ValueError("identity_mode=dev is refused inside AWS Lambda")
            if self.stage.lower() in PRODUCTION:
                raise ValueError("identity_mode=dev is refused for a production stage")
        if self.identity_mode == "jwt" and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("identity_mode=jwt needs jwt_issuer and jwt_audience")
        local_keys = (self.jwt_jwks_url or "").startswith("file:")
        if local_keys and (self.aws_lambda_function_name or self.stage.lower() in PRODUCTION):
            raise ValueError("a file: JWKS (development issuer) is refused in Lambda and prod")
        return self

    def audiences(self) -> frozenset[str]:
        return frozenset(a.strip() for a in (self.jwt_audience or "").split(",") if a.strip())

    def scopes(self) -> frozenset[str]:
        return frozenset(s.strip() for s in (self.jwt_scopes or "").split(",") if s.strip())

    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in (self.cors_origins or "").split(",") if o.strip())


def env_name(field: str) -> str:
    """The environment variable that sets ``field`` (one source of truth for app and infra)."""
    if field not in Settings.model_fields:
        raise KeyError(field)
    return field.upper()

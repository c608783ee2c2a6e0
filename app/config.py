"""Typed settings, read from the environment once, at the composition root."""

from __future__ import annotations

import os
import sys
from typing import Any, Literal, NoReturn, Self, get_origin

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from app.contract.environment import GREET_DELAY_RANGE, env_name
from app.identity.subject import subject_error

DEFAULT_STORE_URL = "sqlite:///var/orders.db"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
PRODUCTION = frozenset({"prod", "production"})
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseModel):
    """Every knob of the service. Environment variables are the field names, upper-cased.

    ``Settings(**given)``: the fields given, else the environment, else the defaults. A plain
    pydantic model that reads ``os.environ`` itself: pydantic-settings (with dotenv, argparse and
    its sources) cost the Lambda cold start more than it saved here (docs/performance.md).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    greet_delay: float = Field(
        default=3.0,
        ge=GREET_DELAY_RANGE[0],
        le=GREET_DELAY_RANGE[1],
        description="Seconds GET /hi awaits (simulated data store).",
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
        description="Origins (comma-separated) whose pages may call the API (policy: "
        "app/contract/cors.py); unset: no CORS. On Lambda, API Gateway's CORS configuration "
        "answers instead.",
    )
    aws_lambda_function_name: str | None = Field(
        default=None, description="Set by AWS Lambda; dev identity is refused there."
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, ge=1, description="Largest request body accepted (413)."
    )
    log_level: LogLevel = Field(default="INFO", description="Level of the app's loggers.")
    metrics: Literal["off", "emf"] = Field(
        default="off",
        description="Per-request CloudWatch metrics: emf = one Embedded Metric Format line per "
        "request on stdout (the Lambda default); off = none (the local default).",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_the_environment(cls, given: Any) -> Any:
        """Fields not given come from their variables (matched in any case, as is customary)."""
        if not isinstance(given, dict):
            return given
        environ = {name.lower(): value for name, value in os.environ.items()}
        found = {field: environ[field] for field in cls.model_fields if field in environ}
        return {**found, **given}

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("store_url")
    @classmethod
    def _store_url_is_usable(cls, url: str) -> str:
        from app.store.protocol import check_store_url

        check_store_url(url)
        return url

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
                raise ValueError("IDENTITY_MODE=dev is refused inside AWS Lambda")
            if self.stage.lower() in PRODUCTION:
                raise ValueError(f"IDENTITY_MODE=dev is refused for STAGE={self.stage}")
        if self.identity_mode == "jwt" and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("IDENTITY_MODE=jwt needs JWT_ISSUER and JWT_AUDIENCE")
        local_keys = (self.jwt_jwks_url or "").startswith("file:")
        if local_keys and (self.aws_lambda_function_name or self.stage.lower() in PRODUCTION):
            raise ValueError(
                "a file: JWT_JWKS_URL (the development issuer) is refused in Lambda and prod"
            )
        return self

    def audiences(self) -> frozenset[str]:
        return frozenset(a.strip() for a in (self.jwt_audience or "").split(",") if a.strip())

    def scopes(self) -> frozenset[str]:
        return frozenset(s.strip() for s in (self.jwt_scopes or "").split(",") if s.strip())

    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in (self.cors_origins or "").split(",") if o.strip())


class ConfigError(ValueError):
    """Settings the service cannot run with: one line per problem, each naming the environment
    variable, the value it has and what is allowed."""


def load_settings(**overrides: Any) -> Settings:
    """``Settings(**overrides)`` from the environment, or ``ConfigError`` saying what is wrong."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(error) for error in exc.errors())) from None


def exit_for(error: ConfigError) -> NoReturn:
    """For a command: each problem on one line of stderr, then exit status 2 (no traceback)."""
    for line in str(error).splitlines():
        print(f"configuration error: {line}", file=sys.stderr)
    raise SystemExit(2)


def _describe(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a check across fields: its message names the variables
        return message
    field = str(error["loc"][0])
    shown = repr(error["input"])
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    allowed = _allowed(field)
    return f"{env_name(field)}={shown} is invalid: {message[:1].lower()}{message[1:]}" + (
        f" (allowed: {allowed})" if allowed else ""
    )


def _allowed(field: str) -> str | None:
    """What a numeric setting accepts, from its bounds (other messages already say it)."""
    info = Settings.model_fields[field]
    if get_origin(info.annotation) is Literal:
        return None
    kind = {float: "a number", int: "a whole number"}.get(info.annotation)  # type: ignore[arg-type]
    if kind is None:
        return None
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        return f"{kind} from {low} to {high}"
    if low is not None:
        return f"{kind} of at least {low}"
    return kind

"""The service's environment variables: their names and the bounds the stack checks first.

``app.config.Settings`` reads them (a test proves its fields are exactly these); the CDK stack
writes them into the function's environment and checks its knobs against the same bounds.
"""

from __future__ import annotations

# Every setting, by field name; its environment variable is the name upper-cased.
SETTINGS: frozenset[str] = frozenset(
    {
        "greet_delay",
        "store_url",
        "identity_mode",
        "dev_owner",
        "stage",
        "jwt_issuer",
        "jwt_audience",
        "jwt_jwks_url",
        "jwt_scopes",
        "cors_origins",
        "aws_lambda_function_name",
        "max_body_bytes",
        "log_level",
        "metrics",
    }
)
GREET_DELAY_RANGE = (0, 25)  # seconds GET /hi may await; an HTTP API waits at most 30 s
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_name(field: str) -> str:
    """The environment variable that sets ``field`` (one source of truth for app and infra)."""
    if field not in SETTINGS:
        raise KeyError(field)
    return field.upper()

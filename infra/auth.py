"""Who may call the protected routes: a Cognito user pool, or an existing OIDC provider."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.context import StageConfig

# The scope of every access token Cognito issues through its user pool API (initiate-auth, SRP);
# an ID token has no scope claim, so requiring it admits access tokens only.
COGNITO_USER_SCOPE = "aws.cognito.signin.user.admin"


@dataclass(frozen=True, slots=True)
class JwtIssuer:
    """What the API's JWT authorizer checks: the token's issuer, its audience, and the scopes
    of which a protected route needs one (none: any token of the audience)."""

    issuer: str
    audience: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    user_pool: cognito.UserPool | None = None
    client: cognito.UserPoolClient | None = None


def jwt_issuer(scope: Construct, config: StageConfig) -> JwtIssuer:
    """The configured OIDC provider, else a new Cognito user pool with a CLI-friendly client."""
    if config.oidc_issuer:
        return JwtIssuer(config.oidc_issuer, config.oidc_audience, config.oidc_scopes)
    pool = cognito.UserPool(
        scope,
        "Users",
        user_pool_name=f"orders-api-{config.stage}",
        self_sign_up_enabled=config.self_sign_up,
        sign_in_aliases=cognito.SignInAliases(username=True, email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=Duration.days(3),
        ),
        mfa=cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        deletion_protection=config.is_prod,
        removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
    )
    # A public client (no secret): USER_PASSWORD_AUTH lets `aws cognito-idp initiate-auth` get
    # tokens from a terminal; SRP is there for SDK and browser clients. No OAuth flows, callback
    # URLs or OAuth scopes: the pool has no domain, so nothing could use them.
    client = pool.add_client(
        "CliClient",
        user_pool_client_name=f"orders-api-{config.stage}-cli",
        auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
        disable_o_auth=True,
        generate_secret=False,
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        access_token_validity=Duration.hours(1),
        id_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(30),
    )
    Validations.of(pool).acknowledge(
        Acknowledgment(
            id="AwsSolutions-COG2",
            reason="MFA is optional (TOTP) so that the documented CLI token flow works; "
            "a deployment that needs MFA for everyone sets it on the pool.",
        ),
        Acknowledgment(
            id="AwsSolutions-COG8",
            reason="The Plus feature plan (threat protection) is a per-user cost this service "
            "does not require; the Essentials plan covers its sign-in flows.",
        ),
    )
    region = Stack.of(scope).region
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool.user_pool_id}"
    return JwtIssuer(
        issuer, (client.user_pool_client_id,), (COGNITO_USER_SCOPE,), user_pool=pool, client=client
    )

"""The HTTP API: the shared route table, a JWT authorizer, throttling, JSON access logs, CORS."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import jsii
from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from app.contract import cors
from app.contract.gateway_routes import gateway_routes
from infra.auth import JwtIssuer
from infra.compute import log_group
from infra.config import StageConfig

# The public greeting awaits GREET_DELAY inside the function: on Lambda each such request holds a
# whole execution environment that long, plus the app's own time and, on a new environment, a
# SnapStart restore (this much, at most, for both).
GREETING_ROUTE = "ANY /hi"  # app/contract/gateway_routes.py
GREETING_OVERHEAD_SECONDS = 0.5
# At most this share of the reserved concurrency may be held by anonymous greetings.
ANONYMOUS_SHARE = 0.5

# One JSON object per request (HTTP API $context variables).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "user": "$context.authorizer.claims.sub",
}


class OrdersHttpApi(Construct):
    """API Gateway HTTP API in front of ``target`` (the function's SnapStart alias)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        target: lambda_.IFunction,
        jwt: JwtIssuer,
    ) -> None:
        super().__init__(scope, id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"orders-api-{config.stage}",
            description=f"Orders API ({config.stage})",
            create_default_stage=False,
            cors_preflight=_cors(config),
        )
        authorizer = authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer", jwt.issuer, jwt_audience=list(jwt.audience)
        )
        integration = integrations.HttpLambdaIntegration("Function", target)
        routes: dict[str, apigwv2.HttpRoute] = {}
        for route in gateway_routes(cors=bool(config.cors_origins)):
            (created,) = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer() if route.public else authorizer,
                # An ID token carries no scope: only access tokens pass (what AWS recommends).
                authorization_scopes=None if route.public else list(jwt.scopes) or None,
            )
            routes[route.route_key] = created
            if route.public:
                Validations.of(created).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-APIG4",
                        reason=f"{route.route_key} is public by design "
                        "(app/contract/gateway_routes.py: a public path, or a protected path's "
                        "CORS preflight, which carries no token); every other route has the JWT "
                        "authorizer.",
                    )
                )
        self.access_logs = log_group(self, "AccessLogs", config)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate, burst_limit=config.throttle_burst
            ),
            access_log_settings=_JsonAccessLogs(apigwv2.LogGroupLogDestination(self.access_logs)),
        )
        greeting = greeting_throttle(config)
        if greeting is not None:
            stage = self.stage.node.default_child
            assert isinstance(stage, apigwv2.CfnStage)  # noqa: S101 - HttpStage's resource
            stage.route_settings = {
                GREETING_ROUTE: {
                    "ThrottlingRateLimit": greeting.rate,
                    "ThrottlingBurstLimit": greeting.burst,
                }
            }
            # Route settings may only name routes that exist when the stage is deployed.
            self.stage.node.add_dependency(routes[GREETING_ROUTE])


@dataclass(frozen=True, slots=True)
class Throttle:
    rate: float  # requests per second
    burst: int  # token bucket size


def greeting_throttle(config: StageConfig) -> Throttle | None:
    """The ``ANY /hi`` route's throttle: anonymous greetings can hold at most
    ``ANONYMOUS_SHARE`` of the reserved concurrency, so owners always keep the rest.

    A token bucket admits at most ``burst + rate * T`` requests in any ``T`` seconds; each
    holds an environment for ``T = GREET_DELAY + GREETING_OVERHEAD_SECONDS``, so at most that
    many are in flight at once (Little's law, worst case). Never above the stage's default
    limits; None without a reservation (no share to keep).
    """
    if not config.reserved_concurrency:
        return None
    budget = config.reserved_concurrency * ANONYMOUS_SHARE
    hold = config.greet_delay + GREETING_OVERHEAD_SECONDS
    burst = min(config.throttle_burst, max(1, int(budget // 10)))
    rate = min(config.throttle_rate, math.floor((budget - burst) / hold * 100) / 100)
    if rate <= 0:  # too small a reservation for even one greeting at a time: closed
        return Throttle(0.0, 0)
    return Throttle(rate, burst)


@jsii.implements(apigwv2.IAccessLogSettings)
class _JsonAccessLogs:
    """Access log settings: ``ACCESS_LOG_FIELDS`` as one JSON line per request."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


def _cors(config: StageConfig) -> apigwv2.CorsPreflightOptions | None:
    """API Gateway answers preflights itself and adds these headers (``app.contract.cors``)."""
    if not config.cors_origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(config.cors_origins),
        allow_methods=[apigwv2.CorsHttpMethod[m] for m in cors.ALLOW_METHODS],
        allow_headers=list(cors.ALLOW_HEADERS),
        expose_headers=list(cors.EXPOSE_HEADERS),
        max_age=Duration.seconds(cors.MAX_AGE_SECONDS),
    )

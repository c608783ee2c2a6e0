"""The HTTP API: the shared route table, a JWT authorizer, throttling, JSON access logs, CORS.

The stage's default limits apply to the owners' routes; every anonymous route has its own
(``infra/anonymous.py``), bounded together by the reserved concurrency.
"""

from __future__ import annotations

import json

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
from infra.anonymous import anonymous_throttles
from infra.auth import JwtIssuer
from infra.compute import log_group
from infra.context import StageConfig

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
        throttles = anonymous_throttles(config)
        if throttles:
            stage = self.stage.node.default_child
            assert isinstance(stage, apigwv2.CfnStage)  # noqa: S101 - HttpStage's resource
            stage.route_settings = {
                key: {"ThrottlingRateLimit": t.rate, "ThrottlingBurstLimit": t.burst}
                for key, t in throttles.items()
            }
            # Route settings may only name routes that exist when the stage is deployed.
            for key in throttles:
                self.stage.node.add_dependency(routes[key])


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

"""The synthesized templates say what the issue asks, checked by intent (no logical IDs)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from app.contract import cors as app_cors
from app.contract.environment import env_name
from app.contract.gateway_routes import GATEWAY_ROUTES, gateway_routes
from infra.auth import COGNITO_USER_SCOPE
from tests.infra.conftest import PROD_CONTEXT, Synthesized


def template(s: Synthesized) -> Template:
    return Template.from_json(s.template_json)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def test_function_is_arm64_python313_with_json_logs_and_snapstart(stage: Synthesized) -> None:
    log_group_id = _function_log_group(stage)
    template(stage).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Handler": "app.aws_lambda.handler.handler",
            "SnapStart": {"ApplyOn": "PublishedVersions"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": ref(log_group_id)},
        },
    )
    template(stage).resource_count_is("AWS::Lambda::Function", 1)


def test_environment_uses_the_apps_setting_names(dev: Synthesized) -> None:
    table_id, _ = dev.only("AWS::DynamoDB::GlobalTable")
    _, function = dev.only("AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[env_name("store_url")] == {"Fn::Join": ["", ["dynamodb://", ref(table_id)]]}
    assert variables[env_name("identity_mode")] == "gateway"
    assert variables[env_name("greet_delay")] == "3"
    assert variables[env_name("log_level")] == "INFO"


def test_the_function_knows_the_cors_origins_too(stage: Synthesized) -> None:
    _, function = stage.only("AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    origins = stage.context.get("cors-origins")
    assert variables.get(env_name("cors_origins")) == (",".join(origins) if origins else None)


def test_timeout_is_above_the_greeting_delay(stage: Synthesized) -> None:
    _, function = stage.only("AWS::Lambda::Function")
    properties = function["Properties"]
    delay = float(properties["Environment"]["Variables"][env_name("greet_delay")])
    assert delay == float(stage.context.get("greet-delay", 3))
    assert delay + 3 <= properties["Timeout"] <= 29  # the HTTP API waits 30 s at most
    expected_memory = stage.context.get("memory-mb", 512)
    assert properties["MemorySize"] == expected_memory


def test_api_invokes_the_snapstart_alias_of_a_published_version(stage: Synthesized) -> None:
    version_id, _ = stage.only("AWS::Lambda::Version")
    alias_id, alias = stage.only("AWS::Lambda::Alias")
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
    integrations = stage.resources("AWS::ApiGatewayV2::Integration")
    assert integrations
    for integration in integrations.values():
        assert integration["Properties"]["IntegrationUri"] == ref(alias_id)
        assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    permissions = stage.resources("AWS::Lambda::Permission").values()
    assert permissions
    assert all(p["Properties"]["FunctionName"] == ref(alias_id) for p in permissions)


def test_routes_are_the_shared_table_with_jwt_on_every_private_one(stage: Synthesized) -> None:
    authorizer_id, _ = stage.only("AWS::ApiGatewayV2::Authorizer")
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in _routes(stage)}
    expected = gateway_routes(cors=bool(stage.context.get("cors-origins")))
    assert set(routes) == {r.route_key for r in expected}
    for route in expected:
        properties = routes[route.route_key]
        if route.public:
            assert properties.get("AuthorizationType", "NONE") == "NONE", route
            assert "AuthorizerId" not in properties, route
        else:
            assert properties["AuthorizationType"] == "JWT", route
            assert properties["AuthorizerId"] == ref(authorizer_id), route
    assert any(r.path.startswith("/orders") and not r.public for r in GATEWAY_ROUTES)


def test_only_an_api_with_cors_lets_a_token_less_options_through(stage: Synthesized) -> None:
    """Without CORS no preflight needs answering: an OPTIONS on /orders meets the authorizer."""
    _, api = stage.only("AWS::ApiGatewayV2::Api")
    cors = "CorsConfiguration" in api["Properties"]
    assert cors == bool(stage.context.get("cors-origins"))
    open_options = sorted(
        p["RouteKey"]
        for p in (r["Properties"] for r in _routes(stage))
        if p["RouteKey"].split(" ")[0] in {"OPTIONS", "ANY"}
        and p["RouteKey"].split(" ")[1].startswith("/orders")
        and p.get("AuthorizationType", "NONE") == "NONE"
    )
    assert open_options == (["OPTIONS /orders", "OPTIONS /orders/{proxy+}"] if cors else [])


def test_dev_authorizer_trusts_its_cognito_pool_and_client(dev: Synthesized) -> None:
    pool_id, _ = dev.only("AWS::Cognito::UserPool")
    client_id, _ = dev.only("AWS::Cognito::UserPoolClient")
    _, authorizer = dev.only("AWS::ApiGatewayV2::Authorizer")
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "JWT"
    assert properties["IdentitySource"] == ["$request.header.Authorization"]
    jwt = properties["JwtConfiguration"]
    assert jwt["Audience"] == [ref(client_id)]
    assert ref(pool_id) in jwt["Issuer"]["Fn::Join"][1]
    assert "https://cognito-idp." in jwt["Issuer"]["Fn::Join"][1]


def test_cognito_pool_is_strict_and_its_client_allows_the_cli_flow(dev: Synthesized) -> None:
    template(dev).has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},  # no self sign-up
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": Match.any_value(),
                    "RequireLowercase": True,
                    "RequireUppercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                }
            },
        },
    )
    _, pool = dev.only("AWS::Cognito::UserPool")
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    _, client = dev.only("AWS::Cognito::UserPoolClient")
    assert "ALLOW_USER_PASSWORD_AUTH" in client["Properties"]["ExplicitAuthFlows"]
    assert client["Properties"]["GenerateSecret"] is False


def test_prod_trusts_the_configured_oidc_issuer_instead_of_cognito(prod: Synthesized) -> None:
    template(prod).resource_count_is("AWS::Cognito::UserPool", 0)
    template(prod).has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "JwtConfiguration": {
                "Issuer": PROD_CONTEXT["oidc-issuer"],
                "Audience": ["orders-api", "orders-cli"],
            },
        },
    )


def test_default_route_throttling(stage: Synthesized) -> None:
    expected = (50, 100) if stage.context["stage"] == "dev" else (20, 40)
    template(stage).has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": expected[0],
                "ThrottlingBurstLimit": expected[1],
            },
        },
    )


def test_anonymous_routes_together_leave_owners_half_the_reserved_concurrency(
    stage: Synthesized,
) -> None:
    """What API Gateway admits to the public routes holds Lambda environments: a token bucket
    lets ``burst + rate * T`` in within ``T``, all in flight at once when each holds its
    environment ``T`` (``/hi``: GREET_DELAY and 0.5 s; the others: a readiness check's second
    and 0.5 s). The public routes' buckets are separate, so their sum is the worst case."""
    _, function = stage.only("AWS::Lambda::Function")
    reserved = function["Properties"]["ReservedConcurrentExecutions"]
    delay = float(function["Properties"]["Environment"]["Variables"][env_name("greet_delay")])
    timeout = function["Properties"]["Timeout"]
    _, api_stage = stage.only("AWS::ApiGatewayV2::Stage")
    properties = api_stage["Properties"]
    routes = stage.resources("AWS::ApiGatewayV2::Route")
    public = {r["Properties"]["RouteKey"]: route_id for route_id, r in routes.items()
              if r["Properties"].get("AuthorizationType", "NONE") == "NONE"}  # fmt: skip
    assert {"ANY /hi", "ANY /health", "ANY /docs", "ANY /openapi.json"} <= set(public)
    settings = properties.get("RouteSettings", {})
    assert set(settings) == set(public)  # none left at the stage's default limits
    held = 0.0
    for key, limits in settings.items():
        rate, burst = limits["ThrottlingRateLimit"], limits["ThrottlingBurstLimit"]
        hold = delay + 0.5 if key == "ANY /hi" else 1.5
        assert hold <= timeout
        held += burst + rate * hold
        # The routes the settings name exist before the stage deploys (else CloudFormation fails).
        assert public[key] in api_stage.get("DependsOn", [])
    assert held <= reserved / 2, (settings, reserved)
    greeting = settings["ANY /hi"]
    assert greeting["ThrottlingBurstLimit"] >= 1  # still open: one greeting at a time at least
    assert greeting["ThrottlingRateLimit"] > 0
    assert settings["ANY /health"]["ThrottlingRateLimit"] > 0


def test_json_access_logs_go_to_a_log_group_with_retention(stage: Synthesized) -> None:
    _, api_stage = stage.only("AWS::ApiGatewayV2::Stage")
    settings = api_stage["Properties"]["AccessLogSettings"]
    (log_group_id, _) = settings["DestinationArn"]["Fn::GetAtt"]
    assert log_group_id in stage.resources("AWS::Logs::LogGroup")
    fields = json.loads(settings["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert fields["routeKey"] == "$context.routeKey"


def test_every_log_group_has_the_stage_retention(stage: Synthesized) -> None:
    days = 30 if stage.context["stage"] == "dev" else 365
    groups = stage.resources("AWS::Logs::LogGroup")
    assert len(groups) == 2  # the function's and the API's access logs
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {days}
    policy = "Delete" if stage.context["stage"] == "dev" else "Retain"
    assert {g["DeletionPolicy"] for g in groups.values()} == {policy}


def test_cors_comes_from_context(stage: Synthesized) -> None:
    _, api = stage.only("AWS::ApiGatewayV2::Api")
    cors = api["Properties"].get("CorsConfiguration")
    if stage.context["stage"] == "dev":
        assert cors is None
    else:
        assert cors["AllowOrigins"] == PROD_CONTEXT["cors-origins"]
        assert cors["AllowMethods"] == list(app_cors.ALLOW_METHODS)
        assert cors["AllowHeaders"] == list(app_cors.ALLOW_HEADERS)
        assert cors["ExposeHeaders"] == list(app_cors.EXPOSE_HEADERS)
        assert cors["MaxAge"] == app_cors.MAX_AGE_SECONDS
        assert {"if-match", "idempotency-key"} <= set(cors["AllowHeaders"])
        assert {"etag", "link", "idempotent-replayed"} <= set(cors["ExposeHeaders"])


def test_preflights_never_meet_the_authorizer(prod: Synthesized) -> None:
    """With CORS, every path with the JWT authorizer has an OPTIONS route without it."""
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in _routes(prod)}
    protected = {key.split(" ", 1)[1] for key, p in routes.items() if "AuthorizerId" in p}
    assert protected
    for path in protected:
        assert routes[f"OPTIONS {path}"].get("AuthorizationType", "NONE") == "NONE"


def test_protected_routes_require_the_access_tokens_scope(dev: Synthesized) -> None:
    for properties in (r["Properties"] for r in _routes(dev)):
        if "AuthorizerId" in properties:
            assert properties["AuthorizationScopes"] == [COGNITO_USER_SCOPE]
        else:
            assert "AuthorizationScopes" not in properties


def test_cognito_client_has_no_oauth(dev: Synthesized) -> None:
    _, client = dev.only("AWS::Cognito::UserPoolClient")
    properties = client["Properties"]
    assert properties.get("AllowedOAuthFlowsUserPoolClient", False) is False
    for key in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert not properties.get(key), key


def test_outputs(stage: Synthesized) -> None:
    t = template(stage)
    for name in ("ApiUrl", "TableName", "FunctionName", "JwtIssuer"):
        t.has_output(name, {"Value": Match.any_value()})
    cognito_outputs = {"UserPoolId", "UserPoolClientId"} & set(stage.template_json["Outputs"])
    if stage.context["stage"] == "dev":
        assert cognito_outputs == {"UserPoolId", "UserPoolClientId"}
    else:
        assert cognito_outputs == set()  # an existing OIDC provider has no pool here


def _routes(stage: Synthesized) -> list[dict[str, Any]]:
    return list(stage.resources("AWS::ApiGatewayV2::Route").values())


def test_the_function_log_group_is_an_output_since_it_is_not_aws_lambda_named(
    stage: Synthesized,
) -> None:
    """CloudFormation names the group (no ``/aws/lambda/<function>``): docs/operations.md
    sends operators to the ``FunctionLogGroup`` output, which must be the function's group."""
    log_group_id = _function_log_group(stage)
    group = stage.template_json["Resources"][log_group_id]["Properties"]
    assert "LogGroupName" not in group
    outputs = stage.template_json["Outputs"]
    assert outputs["FunctionLogGroup"]["Value"] == ref(log_group_id)


def _function_log_group(stage: Synthesized) -> str:
    _, function = stage.only("AWS::Lambda::Function")
    logical_id: str = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert logical_id in stage.resources("AWS::Logs::LogGroup")
    return logical_id


def test_only_prod_is_termination_protected(stage: Synthesized) -> None:
    """The assembly asks `cdk deploy` to protect prod: CloudFormation refuses to delete it."""
    protected = bool(stage.artifact.termination_protection)
    assert protected is (stage.context["stage"] == "prod")

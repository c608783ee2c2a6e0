"""The local gateway emulator routes and authorizes exactly as the synthesized stack does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from devtools import dev_issuer
from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.throttle import StageThrottle
from tests.gateway_support import dev_authorizer, serving
from tests.infra.conftest import Synthesized

PROBE_METHODS = ("GET", "POST", "PUT", "DELETE")


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A function that answers with the route API Gateway matched."""
    return {"statusCode": 200, "body": event["routeKey"], "headers": {}}


def test_emulator_routes_and_authorizes_like_the_stack(dev: Synthesized, tmp_path: Path) -> None:
    routes = [r["Properties"] for r in dev.resources("AWS::ApiGatewayV2::Route").values()]
    assert routes
    # The emulator requires the scopes the stack's routes require (one scope rule for both).
    (scopes,) = {tuple(p["AuthorizationScopes"]) for p in routes if "AuthorizerId" in p}
    authorizer = dev_authorizer(tmp_path, frozenset(scopes))
    config = GatewayConfig(handler_factory=lambda: _echo, authorizer=authorizer)
    seen: set[tuple[str, bool]] = set()
    scoped = {"authorization": f"Bearer {dev_issuer.mint('u', folder=tmp_path, scope=scopes[0])}"}
    unscoped = {"authorization": f"Bearer {dev_issuer.mint('u', folder=tmp_path, scope=None)}"}
    with serving(create_gateway(config)) as base, httpx.Client(base_url=base) as client:
        for properties in routes:
            method, path = properties["RouteKey"].split(" ", 1)
            public = properties.get("AuthorizationType", "NONE") == "NONE"
            concrete = path.replace("{proxy+}", "some/deep/path")
            for probe in PROBE_METHODS if method == "ANY" else (method,):
                response = client.request(probe, concrete)
                if public:
                    assert (response.status_code, response.text) == (200, properties["RouteKey"])
                else:
                    assert response.status_code == 401, (probe, concrete)
                    assert response.json() == {"message": "Unauthorized"}
                    denied = client.request(probe, concrete, headers=unscoped)
                    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
                    allowed = client.request(probe, concrete, headers=scoped)
                    assert (allowed.status_code, allowed.text) == (200, properties["RouteKey"])
            seen.add((properties["RouteKey"], public))
        # No CORS in dev: no preflight route, so a token-less OPTIONS meets the authorizer.
        response = client.request("OPTIONS", "/orders")
        assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
        # What the stack does not route, the emulator does not either.
        for method, path in [("GET", "/"), ("GET", "/hi/x"), ("GET", "/orders-x"), ("GET", "/x")]:
            response = client.request(method, path)
            assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    assert {key for key, _ in seen} == {p["RouteKey"] for p in routes}


def test_emulator_throttles_each_route_as_the_stage_does(
    stage: Synthesized, tmp_path: Path
) -> None:
    """Token buckets from the stage's settings (time frozen, then moved on by hand): each public
    route its own limits, the owners' routes the stage default, each route its own bucket."""
    now = [0.0]
    throttle = StageThrottle.from_template(stage.template_json, clock=lambda: now[0])
    _, api_stage = stage.only("AWS::ApiGatewayV2::Stage")
    greeting = api_stage["Properties"]["RouteSettings"]["ANY /hi"]
    default = api_stage["Properties"]["DefaultRouteSettings"]
    burst, rate = greeting["ThrottlingBurstLimit"], greeting["ThrottlingRateLimit"]
    assert f"ANY /hi {rate:g}/s burst {burst}" in throttle.describe()  # make gateway prints it
    config = GatewayConfig(
        handler_factory=lambda: _echo, authorizer=dev_authorizer(tmp_path), throttle=throttle
    )
    with serving(create_gateway(config)) as base, httpx.Client(base_url=base) as client:
        statuses = [client.get("/hi").status_code for _ in range(burst + 2)]
        assert statuses == [200] * burst + [429] * 2
        throttled = client.get("/hi")
        assert (throttled.status_code, throttled.json()) == (429, {"message": "Too Many Requests"})
        now[0] += 1.01 / rate  # one token back
        assert [client.get("/hi").status_code for _ in range(2)] == [200, 429]
        health = api_stage["Properties"]["RouteSettings"]["ANY /health"]
        admitted = health["ThrottlingBurstLimit"]
        assert [client.get("/health").status_code for _ in range(admitted)] == [200] * admitted
        assert client.get("/health").status_code == 429  # its own bucket, not /hi's or the stage's
        # The owners' routes keep the stage default (throttled before the authorizer: a 401 too
        # takes a token).
        orders = [client.get("/orders").status_code for _ in range(default["ThrottlingBurstLimit"])]
        assert orders == [401] * default["ThrottlingBurstLimit"]
        assert client.get("/orders").status_code == 429

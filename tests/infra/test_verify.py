"""``make verify`` against offline stand-ins: moto's server for CloudFormation, Cognito,
CloudWatch and SNS (with alarm actions added as AWS documents them: tests/alarm_actions.py),
and the gateway emulator in front of the handler as the endpoint, trusting moto's user pool.

What this proves: the command reads the outputs it needs, makes the anonymous, authorizer and
token checks and runs the smoke suite against an API Gateway-shaped endpoint, creates and always
deletes its test user, reads an alarm's delivery from the alarm history, and stops at the first
failure with one line. What it cannot prove: AWS's own decisions (the topic and key policies,
API Gateway's real authorizer and throttles, Lambda), which only a deployed stack shows.
"""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.aws_lambda.factory import build_handler
from app.config import Settings
from devtools.gateway import GatewayConfig, create_gateway
from devtools.gateway.authorizer import Authorizer
from devtools.ports import free_port
from infra.auth import COGNITO_USER_SCOPE
from infra.verify.__main__ import main
from infra.verify.account import POOL_OUTPUTS, REQUIRED_OUTPUTS
from tests import alarm_actions
from tests.gateway_support import serving
from tests.infra.conftest import Synthesized

REGION = "eu-west-1"
STACK = "OrdersApi-dev"
ALARM = "orders-api-dev-NotificationCheck"


@dataclass
class Deployment:
    moto: str
    api_url: str
    pool: str
    client_id: str
    topic: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.moto, region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    def users(self) -> list[str]:
        found = self.client("cognito-idp").list_users(UserPoolId=self.pool)["Users"]
        return [u["Username"] for u in found]


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    alarm_actions.install(monkeypatch)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))  # noqa: S310
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)  # botocore's clients all go to moto
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def deployed(moto: str, tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    """``deploy(api_url=None)``: the stack's stand-in, its endpoint the gateway emulator."""
    aws = Deployment(moto, "", "", "", "")
    idp = aws.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="orders-api-dev")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="orders-api-dev-cli",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    authorizer = Authorizer(
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool}",
        audiences=frozenset({client_id}),
        jwks_url=f"{moto}/{pool}/.well-known/jwks.json",
        scopes=frozenset({COGNITO_USER_SCOPE}),
    )
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, identity_mode="gateway"
    )
    config = GatewayConfig(handler_factory=lambda: build_handler(settings), authorizer=authorizer)
    with serving(create_gateway(config)) as base_url:

        def deploy(api_url: str | None = None) -> Deployment:
            template = {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic",
                                        "Properties": {"TopicName": "orders-api-dev-alarms"}}},
                "Outputs": {
                    "ApiUrl": {"Value": api_url or base_url + "/"},
                    "UserPoolId": {"Value": pool},
                    "UserPoolClientId": {"Value": client_id},
                    "AlarmTopicArn": {"Value": {"Ref": "Topic"}},
                    "NotificationCheckAlarm": {"Value": ALARM},
                },
            }  # fmt: skip
            cloudformation = aws.client("cloudformation")
            cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
            (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
            aws.client("cloudwatch").put_metric_alarm(
                AlarmName=ALARM, Namespace="OrdersApi", MetricName="NotificationCheck",
                Dimensions=[{"Name": "stage", "Value": "dev"}], Statistic="Sum", Period=300,
                EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                AlarmActions=[outputs["AlarmTopicArn"]], OKActions=[outputs["AlarmTopicArn"]],
            )  # fmt: skip
            return Deployment(moto, outputs["ApiUrl"], pool, client_id, outputs["AlarmTopicArn"])

        yield deploy


def verify(*args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = main(["-c", "stage=dev", *args], out=out)
    return status, out.getvalue().splitlines()


def test_the_outputs_verify_reads_are_the_stacks(dev: Synthesized) -> None:
    outputs = dev.template_json["Outputs"]
    assert set(REQUIRED_OUTPUTS) | set(POOL_OUTPUTS) <= set(outputs)
    alarm_id = outputs["NotificationCheckAlarm"]["Value"]["Ref"]
    alarm = dev.template_json["Resources"][alarm_id]["Properties"]
    assert alarm["AlarmName"] == ALARM
    assert alarm["AlarmActions"] == alarm["OKActions"] == [outputs["AlarmTopicArn"]["Value"]]
    (group,) = dev.resources("AWS::CodeDeploy::DeploymentGroup").values()
    rollback = group["Properties"]["AlarmConfiguration"]["Alarms"]
    assert {"Ref": alarm_id} not in [a["Name"] for a in rollback]  # never stops a deployment


@pytest.mark.slow  # runs the smoke suite
def test_verify_passes_with_a_test_user_it_creates_and_deletes(
    deployed: Callable[..., Deployment],
) -> None:
    aws = deployed()
    status, lines = verify("--create-user")
    assert status == 0, lines
    assert all(line.startswith("ok   ") for line in lines), lines
    names = [line[5:].split(":", 1)[0] for line in lines]
    assert names == ["stack outputs", "GET /health", "GET /hi", "GET /orders without a token",
                     "test user", "GET /orders with the token", "alarm notification",
                     "smoke suite", "test user"]  # fmt: skip
    assert "passed" in lines[7]
    assert f"Successfully executed action {aws.topic}" in lines[6]
    assert aws.users() == []  # the test user is gone
    (alarm,) = aws.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"


@pytest.mark.slow  # runs the smoke suite
def test_a_second_run_while_the_alarm_is_in_alarm_still_proves_delivery(
    deployed: Callable[..., Deployment],
) -> None:
    aws = deployed()
    aws.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="x")
    idp = aws.client("cognito-idp")
    idp.admin_create_user(UserPoolId=aws.pool, Username="owner", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=aws.pool, Username="owner", Password="Owner-password-1", Permanent=True
    )
    token = idp.initiate_auth(
        ClientId=aws.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "owner", "PASSWORD": "Owner-password-1"},
    )["AuthenticationResult"]["AccessToken"]  # fmt: skip
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TOKEN", token)
        status, lines = verify()
    assert status == 0, lines
    assert [line[:4] for line in lines] == ["ok  "] * 7
    assert aws.users() == ["owner"]  # a given token: no user created or deleted


def _failed(lines: list[str]) -> str:
    """The one failing line, which must be the last."""
    assert lines, "no output"
    assert all(line.startswith("ok   ") for line in lines[:-1]), lines
    assert lines[-1].startswith("FAIL "), lines
    return lines[-1]


def test_a_wrong_endpoint_fails_at_the_first_request(
    deployed: Callable[..., Deployment],
) -> None:
    deployed(api_url=f"http://127.0.0.1:{free_port()}/")
    status, lines = verify("--create-user")
    assert status == 1
    line = _failed(lines)
    assert line.startswith("FAIL GET /health: cannot reach http://127.0.0.1:")
    assert "ApiUrl" in line
    assert len(lines) == 2


def test_a_bad_token_fails_before_the_smoke_suite(deployed: Callable[..., Deployment]) -> None:
    deployed()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TOKEN", "not.a.token")
        status, lines = verify()
    assert status == 1
    line = _failed(lines)
    assert line.startswith(
        "FAIL GET /orders with the token: GET /orders with the token answered 401"
    )
    assert "access token" in line


def test_a_failing_alarm_delivery_names_the_action_and_still_deletes_the_user(
    deployed: Callable[..., Deployment],
) -> None:
    aws = deployed()
    aws.client("sns").delete_topic(TopicArn=aws.topic)  # the action's publish now fails
    status, lines = verify("--create-user")
    assert status == 1
    assert lines[-1].startswith("ok   test user:")
    assert lines[-1].endswith("deleted")
    line = _failed(lines[:-1])
    assert line.startswith(f"FAIL alarm notification: alarm {ALARM}: Failed to execute action")
    assert aws.topic in line
    assert "KMS key" in line
    assert aws.users() == []


def test_no_stack_or_no_token_each_fail_in_one_line(deployed: Callable[..., Deployment]) -> None:
    status, lines = verify("--create-user")
    assert status == 1
    assert _failed(lines).startswith(f"FAIL stack outputs: stack {STACK} not found in {REGION}")
    assert len(lines) == 1
    deployed()
    status, lines = verify()
    assert status == 1
    assert "CREATE_USER=1" in _failed(lines)
    assert _failed(lines).startswith("FAIL token: none given")


def test_a_throttled_public_route_is_waited_out_within_patience(tmp_path: Path) -> None:
    """The public routes of a deployed stage admit about one request at a time (dev): a 429 is
    retried until the bucket refills, and past the patience it is the check's failure."""
    from devtools.gateway.throttle import Limits, StageThrottle
    from infra.verify import Failed
    from infra.verify.endpoint import Endpoint
    from tests.gateway_support import dev_authorizer

    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'orders.db'}", greet_delay=0, identity_mode="gateway"
    )
    throttle = StageThrottle(None, {"ANY /health": Limits(rate=0.5, burst=1)})
    config = GatewayConfig(
        handler_factory=lambda: build_handler(settings),
        authorizer=dev_authorizer(tmp_path),
        throttle=throttle,
    )
    with serving(create_gateway(config)) as base_url:
        assert Endpoint(base_url).health().startswith("200")  # the bucket's one token
        assert Endpoint(base_url).health().startswith("200")  # 429, then a token 2 s later
        with pytest.raises(Failed, match=r"GET /health answered 429 .*Too Many Requests"):
            Endpoint(base_url, patience=0).health()  # the bucket is empty again

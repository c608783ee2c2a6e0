"""`python -m infra.preflight` as `make deploy` runs it: offline, and against moto's server.

moto does not implement Lambda's GetAccountSettings: a small fake serves it and
GetFunctionConcurrency as Lambda's REST API documents them, per Region (read off the request's
SigV4 credential scope); STS, SSM and CloudFormation are moto's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """No AWS settings at all: an empty home, no ~/.aws files, no instance metadata probe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return env


def preflight(
    env: dict[str, str], action: str = "deploy", *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "infra.preflight", action, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_no_credentials_is_one_line_on_what_to_do_and_fast(clean_env: dict[str, str]) -> None:
    started = time.monotonic()
    done = preflight(clean_env)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("No AWS credentials found")
    assert "`aws configure`" in line
    assert "`aws configure sso`" in line
    assert elapsed < 10  # `cdk deploy` took 30+ s of synthesis to say as much


def test_an_unknown_profile_is_named(clean_env: dict[str, str]) -> None:
    done = preflight(clean_env | {"AWS_PROFILE": "orders-nope"}, "destroy")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "'orders-nope' not found" in line


@pytest.fixture
def moto_env(clean_env: dict[str, str], moto_endpoint: str) -> dict[str, str]:
    """Fake credentials from a ~/.aws profile (not the environment), AWS endpoints at moto."""
    Path(clean_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[orders-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    return clean_env | {"AWS_PROFILE": "orders-test", "AWS_ENDPOINT_URL": moto_endpoint}


def _account(moto_endpoint: str) -> str:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_endpoint)
    account: str = sts.get_caller_identity()["Account"]
    return account


# A region per case: the session's moto server keeps its state between tests.
@pytest.mark.parametrize(
    ("bootstrap", "region"),
    [("missing", "eu-west-3"), ("present", "eu-central-1"), ("old", "ap-southeast-2")],
)
def test_credentials_and_bootstrap_against_moto(
    moto_env: dict[str, str], moto_endpoint: str, bootstrap: str, region: str
) -> None:
    if bootstrap != "missing":
        ssm = boto3.client("ssm", region_name=region, endpoint_url=moto_endpoint)
        version = "28" if bootstrap == "present" else "5"
        ssm.put_parameter(Name=VERSION_PARAMETER, Value=version, Type="String")
    account = _account(moto_endpoint)
    done = preflight(moto_env | {"AWS_REGION": region})
    if bootstrap == "present":
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == (
            f"AWS account {account}, region {region}, CDK bootstrap version 28"
        )
        return
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.endswith(f"run `npx cdk bootstrap aws://{account}/{region}`")
    assert ("not bootstrapped" if bootstrap == "missing" else "version 5") in line


def test_destroy_needs_credentials_but_no_bootstrap(
    moto_env: dict[str, str], moto_endpoint: str
) -> None:
    """The region comes from the profile in ~/.aws/config, as the CDK CLI takes it."""
    Path(moto_env["AWS_CONFIG_FILE"]).write_text("[profile orders-test]\nregion = sa-east-1\n")
    done = preflight(moto_env, "destroy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"AWS account {_account(moto_endpoint)}, region sa-east-1"


@dataclass
class FakeLambda:
    """Per Region: (quota, unreserved) and each function's reserved concurrency."""

    endpoint: str = ""
    accounts: dict[str, tuple[int, int]] = field(default_factory=dict)
    reserved: dict[tuple[str, str], int] = field(default_factory=dict)

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, object]]:
        scope = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/lambda/", authorization)
        region = scope.group(1) if scope else ""
        if path.rstrip("/") == "/2016-08-19/account-settings":
            quota, unreserved = self.accounts[region]
            limit = {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}
            return 200, {"AccountLimit": limit, "AccountUsage": {"FunctionCount": 1}}
        found = re.fullmatch(r"/2019-09-30/functions/([^/]+)/concurrency", path)
        if found and (region, found.group(1)) in self.reserved:
            return 200, {"ReservedConcurrentExecutions": self.reserved[region, found.group(1)]}
        if found:
            return 200, {}  # a function without reserved concurrency
        return 404, {"Type": "User", "Message": f"no route {path}"}


@pytest.fixture(scope="module")
def fake_lambda() -> Iterator[FakeLambda]:
    fake = FakeLambda()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.answer(self.path, self.headers.get("authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if status == 404:
                self.send_header("x-amzn-errortype", "ResourceNotFoundException")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def _deployed(moto_endpoint: str, region: str, stack: str, function: str) -> None:
    """A stack in moto's CloudFormation whose FunctionName output names ``function``."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"FunctionName": {"Value": function}},
    }
    cloudformation = boto3.client("cloudformation", region_name=region, endpoint_url=moto_endpoint)
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))


# (region: one per case, moto keeps its state), the account's quota and unreserved executions,
# what the stage's deployed function reserves now (None: no stack), -c knobs, the refusal.
ACCOUNT_CASES = [
    pytest.param("us-west-1", 10, 10, None, ["stage=dev"],
                 "reserved-concurrency=10 would leave 0 of the 10 Lambda concurrent executions "
                 "of account {account} in us-west-1 unreserved, and Lambda keeps at least 100: "
                 "set `-c reserved-concurrency=0` (no reservation)", id="new account: dev's 10"),
    pytest.param("us-west-2", 50, 50, None, ["stage=prod"], "would leave -50 of the 50",
                 id="quota 50: prod's 100"),
    pytest.param("ca-central-1", 10, 10, None, ["stage=dev", "reserved-concurrency=0"], None,
                 id="new account, no reservation"),
    pytest.param("eu-west-2", 200, 200, None, ["stage=prod"], None, id="quota 200: prod's 100"),
    pytest.param("eu-north-1", 200, 190, None, ["stage=prod"],
                 "reserved-concurrency=100 would leave 90 of the 200 Lambda concurrent "
                 "executions of account {account} in eu-north-1 unreserved, and Lambda keeps at "
                 "least 100: set `-c reserved-concurrency=90` or less",
                 id="quota 200, dev's 10 already reserved: prod's 100"),
    pytest.param("ap-northeast-1", 200, 100, 100, ["stage=prod"], None,
                 id="quota 200: prod updated, keeping its 100"),
    pytest.param("ap-south-1", 200, 100, 100, ["stage=prod", "reserved-concurrency=150"],
                 "would leave 50 of the 200", id="quota 200: prod raised to 150"),
    pytest.param("sa-east-1", 1000, 1000, None, ["stage=prod"], None, id="default quota 1000"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("region", "quota", "unreserved", "held", "knobs", "refusal"), ACCOUNT_CASES
)
def test_reserved_concurrency_must_leave_100_unreserved(
    moto_env: dict[str, str],
    moto_endpoint: str,
    fake_lambda: FakeLambda,
    region: str,
    quota: int,
    unreserved: int,
    held: int | None,
    knobs: list[str],
    refusal: str | None,
) -> None:
    ssm = boto3.client("ssm", region_name=region, endpoint_url=moto_endpoint)
    ssm.put_parameter(Name=VERSION_PARAMETER, Value="28", Type="String", Overwrite=True)
    fake_lambda.accounts[region] = (quota, unreserved)
    if held is not None:
        stage = knobs[0].split("=")[1]
        _deployed(moto_endpoint, region, f"OrdersApi-{stage}", f"orders-{stage}-fn")
        fake_lambda.reserved[region, f"orders-{stage}-fn"] = held
    env = moto_env | {"AWS_REGION": region, "AWS_ENDPOINT_URL_LAMBDA": fake_lambda.endpoint}
    done = preflight(env, "deploy", *(arg for k in knobs for arg in ("-c", k)))
    account = _account(moto_endpoint)
    if refusal is None:
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == (
            f"AWS account {account}, region {region}, CDK bootstrap version 28, "
            f"Lambda concurrency {quota} ({unreserved} unreserved)"
        )
        return
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert refusal.format(account=account) in line
    assert "reserved-concurrency" in line


@pytest.mark.parametrize(
    ("region", "named"),
    [
        ("ap-east-2", "not available in ap-east-2 (Asia Pacific (Taipei))"),
        ("ap-southeast-6", "not available in ap-southeast-6 (Asia Pacific (New Zealand))"),
        ("cn-north-1", "in the aws-cn partition, where Lambda SnapStart and Cognito user pools"),
        ("us-gov-west-1", "in the aws-us-gov partition, where Lambda SnapStart"),
        ("us-iso-east-1", "in the aws-iso partition"),
        ("xx-nowhere-9", "Unknown AWS Region 'xx-nowhere-9'"),
    ],
)
def test_a_region_without_snapstart_is_named_before_anything_else(
    clean_env: dict[str, str], region: str, named: str
) -> None:
    """Offline, even before credentials are looked for: the region alone decides."""
    done = preflight(clean_env | {"AWS_REGION": region})
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert named in line
    assert line.endswith("set AWS_REGION to a commercial AWS Region such as us-east-1 or eu-west-1")


def test_a_bad_knob_is_one_line_before_aws_is_asked(clean_env: dict[str, str]) -> None:
    done = preflight(clean_env, "deploy", "-c", "reserved-concurrency=lots")
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("context reserved-concurrency='lots'")

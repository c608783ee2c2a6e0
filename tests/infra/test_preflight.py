"""`python -m infra.preflight` as `make deploy` runs it: offline, and against moto's server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def preflight(env: dict[str, str], action: str = "deploy") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "infra.preflight", action],
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

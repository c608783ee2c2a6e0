"""What `make deploy` / `make destroy` check before the CDK CLI synthesizes anything.

``cdk deploy`` synthesizes first (the Lambda asset included) and only then finds out that there
are no AWS credentials, or that the account was never bootstrapped. This asks AWS the same
questions in about a second, through botocore's standard credential chain (environment,
``AWS_PROFILE`` and ``~/.aws`` files, IAM Identity Center / SSO, container and instance
credentials), and answers in one line: what is wrong and the command that fixes it.

Run as ``python -m infra.preflight deploy|destroy``; exit status 1 when deploying cannot work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
DEFAULT_QUALIFIER = "hnb659fds"  # the CDK's default bootstrap qualifier
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"
# The default synthesizer's templates refuse bootstrap stacks older than this.
MIN_BOOTSTRAP_VERSION = 6
# The CDK CLI's region for an environment-agnostic stack: these variables, the profile's
# region, else us-east-1.
REGION_VARIABLES = ("AWS_REGION", "AMAZON_REGION", "AWS_DEFAULT_REGION")
FALLBACK_REGION = "us-east-1"
_CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
)


class PreflightError(Exception):
    """Deploying cannot work; the message says in one line what to do."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where ``cdk deploy`` would go, and the bootstrap version found there (None: not read)."""

    account: str
    region: str
    bootstrap_version: int | None


def check(action: str) -> Target:
    """The account and region the CDK CLI would use; raises PreflightError when they cannot."""
    session = botocore.session.Session()
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    try:
        credentials = session.get_credentials()
        region = _region(session)
        if credentials is None:
            raise NoCredentialsError
        sts = session.create_client("sts", region_name=region, config=_CLIENT_CONFIG)
        account: str = sts.get_caller_identity()["Account"]
    except ProfileNotFound as error:
        raise PreflightError(
            f"AWS profile {error.kwargs.get('profile')!r} not found in ~/.aws/config: "
            "run `aws configure sso` or `aws configure --profile <name>`, or unset AWS_PROFILE"
        ) from None
    except NoCredentialsError:
        raise PreflightError(
            "No AWS credentials found (environment, ~/.aws profiles, SSO, container, instance): "
            "run `aws configure` (access keys) or `aws configure sso` (IAM Identity Center), "
            "or set AWS_PROFILE"
        ) from None
    except (SSOError, TokenRetrievalError):
        raise PreflightError(
            f"The AWS SSO session has expired or was never started: run `{login}`"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise PreflightError(
            f"AWS rejected the credentials ({code}): renew them (`{login}` or `aws configure`)"
        ) from None
    except BotoCoreError as error:
        raise PreflightError(f"Cannot check the AWS credentials: {_one_line(error)}") from None
    version = _bootstrap_version(session, account, region) if action == "deploy" else None
    return Target(account, region, version)


def _region(session: botocore.session.Session) -> str:
    for name in REGION_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    configured: str | None = session.get_config_variable("region")
    return configured or FALLBACK_REGION


def _bootstrap_version(session: botocore.session.Session, account: str, region: str) -> int | None:
    """The version the bootstrap stack published in SSM; raises when it is missing or old."""
    qualifier = _qualifier()
    ssm = session.create_client("ssm", region_name=region, config=_CLIENT_CONFIG)
    bootstrap = f"`npx cdk bootstrap aws://{account}/{region}`"
    try:
        found = ssm.get_parameter(Name=f"/cdk-bootstrap/{qualifier}/version")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise PreflightError(
                f"AWS account {account} is not bootstrapped for the CDK in {region}: "
                f"run {bootstrap}"
            ) from None
        return None  # e.g. no ssm:GetParameter here; the CDK CLI checks again with its roles
    except BotoCoreError:
        return None
    version = int(found["Parameter"]["Value"])
    if version < MIN_BOOTSTRAP_VERSION:
        raise PreflightError(
            f"The CDK bootstrap of account {account} in {region} is version {version}, "
            f"older than {MIN_BOOTSTRAP_VERSION}: run {bootstrap}"
        )
    return version


def _qualifier() -> str:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return str(context.get(QUALIFIER_CONTEXT, DEFAULT_QUALIFIER))


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def main(argv: list[str] | None = None) -> int:
    """Print where the deployment goes, or one line on what to fix (exit status 1)."""
    parser = argparse.ArgumentParser(prog="python -m infra.preflight", description=__doc__)
    parser.add_argument("action", choices=("deploy", "destroy"))
    args = parser.parse_args(argv)
    try:
        target = check(args.action)
    except PreflightError as error:
        print(error, file=sys.stderr)
        return 1
    bootstrap = (
        f", CDK bootstrap version {target.bootstrap_version}" if target.bootstrap_version else ""
    )
    print(f"AWS account {target.account}, region {target.region}{bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

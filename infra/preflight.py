"""What `make deploy` / `make destroy` check before the CDK CLI synthesizes anything.

``cdk deploy`` synthesizes first (the Lambda asset included) and only then finds out that there
are no AWS credentials, or that the account was never bootstrapped. This asks AWS the same
questions in about a second, through botocore's standard credential chain (environment,
``AWS_PROFILE`` and ``~/.aws`` files, IAM Identity Center / SSO, container and instance
credentials), and answers in one line: what is wrong and the command that fixes it. Before a
deployment it also refuses what AWS would refuse only once CloudFormation runs
(``infra/limits.py``): a partition or region without Lambda SnapStart, and a reserved
concurrency the account has no room for.

Run as ``python -m infra.preflight deploy|destroy [-c key=value ...]`` with the context the CDK
CLI gets (``cdk.json``'s, then ``-c`` over it); exit status 1 when deploying cannot work.
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
    UnknownRegionError,
)

from infra.context import StageConfig
from infra.limits import Concurrency, concurrency_problem, region_problem

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
    """Where ``cdk deploy`` would go, and what was found there (None: not read)."""

    account: str
    region: str
    bootstrap_version: int | None
    concurrency: Concurrency | None = None


def check(action: str, config: StageConfig) -> Target:
    """The account and region the CDK CLI would use; raises PreflightError when they cannot."""
    session = botocore.session.Session()
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    try:
        region = cli_region(session)
        if action == "deploy" and (problem := region_problem(region, _partition(session, region))):
            raise PreflightError(problem)
        credentials = session.get_credentials()
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
    if action != "deploy":
        return Target(account, region, None)
    version = _bootstrap_version(session, account, region)
    concurrency = _concurrency(session, region, config.stack_name)
    where = f"account {account} in {region}"
    if concurrency and (
        problem := concurrency_problem(config.reserved_concurrency, concurrency, where)
    ):
        raise PreflightError(problem)
    return Target(account, region, version, concurrency)


def _partition(session: botocore.session.Session, region: str) -> str | None:
    try:
        partition: str = session.get_partition_for_region(region)
    except UnknownRegionError:
        return None
    return partition


def _concurrency(session: botocore.session.Session, region: str, stack: str) -> Concurrency | None:
    """The Region's Lambda concurrency (GetAccountSettings) and what ``stack``'s function holds.

    None when it cannot be read (e.g. no lambda:GetAccountSettings): CloudFormation checks.
    """
    lambda_ = session.create_client("lambda", region_name=region, config=_CLIENT_CONFIG)
    try:
        limit = lambda_.get_account_settings()["AccountLimit"]
        function = _deployed_function(session, region, stack)
        held = 0
        if function is not None:
            found = lambda_.get_function_concurrency(FunctionName=function)
            held = int(found.get("ReservedConcurrentExecutions", 0))
    except (ClientError, BotoCoreError, KeyError):
        return None
    return Concurrency(
        int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"]), held
    )


def _deployed_function(session: botocore.session.Session, region: str, stack: str) -> str | None:
    """The function the deployed ``stack`` names in its ``FunctionName`` output (None: no stack)."""
    cloudformation = session.create_client(
        "cloudformation", region_name=region, config=_CLIENT_CONFIG
    )
    try:
        (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    return outputs.get("FunctionName")


def cli_region(session: botocore.session.Session) -> str:
    """The Region the CDK CLI deploys an environment-agnostic stack to."""
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
    return str(_cdk_json_context().get(QUALIFIER_CONTEXT, DEFAULT_QUALIFIER))


def _cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


def stage_config(pairs: list[str]) -> StageConfig:
    """The knobs as the CDK CLI reads them: ``cdk.json``'s context, then ``-c key=value``."""
    context = _cdk_json_context()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"-c {pair}: expected key=value")
        context[key.strip()] = value
    return StageConfig.from_context(context.get)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def main(argv: list[str] | None = None) -> int:
    """Print where the deployment goes, or one line on what to fix (exit status 1)."""
    parser = argparse.ArgumentParser(prog="python -m infra.preflight", description=__doc__)
    parser.add_argument("action", choices=("deploy", "destroy"), help="what is about to run")
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="a CDK knob"
    )
    args = parser.parse_args(argv)
    try:
        target = check(args.action, stage_config(args.context))
    except (PreflightError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    found = [f"AWS account {target.account}, region {target.region}"]
    if target.bootstrap_version:
        found.append(f"CDK bootstrap version {target.bootstrap_version}")
    if target.concurrency:
        found.append(
            f"Lambda concurrency {target.concurrency.quota} "
            f"({target.concurrency.unreserved} unreserved)"
        )
    print(", ".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m infra.verify [-c key=value ...] [--create-user]``: check the deployed stack.

The stack is the one ``make deploy`` would update (``cdk.json``'s context, then ``-c``); AWS
credentials and Region come from botocore's standard chain, as for ``make deploy``. TOKEN (from
the environment) is a bearer token the API accepts; without it, ``--create-user`` creates a user
in the stage's Cognito user pool, signs it in and deletes it at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

import botocore.session

from infra.preflight import cli_region, stage_config
from infra.verify import FAIL, OK, Failed, run
from infra.verify.account import Account, Deployed
from infra.verify.endpoint import Endpoint


def verify(account: Account, stack: str, token: str | None, create_user: bool, out: TextIO) -> bool:
    """Every check in order, one line each; False at the first failure."""
    found: list[Deployed] = []

    def outputs() -> str:
        found.append(account.outputs(stack))
        return f"{stack} in {account.region}, ApiUrl {found[0].api_url}"

    if not run([("stack outputs", outputs)], out):
        return False
    deployed = found[0]
    endpoint = Endpoint(deployed.api_url)
    public = [
        ("GET /health", endpoint.health),
        ("GET /hi", endpoint.greeting),
        ("GET /orders without a token", endpoint.refuses_anonymous_orders),
    ]
    if not run(public, out):
        return False

    def with_token(value: str) -> bool:
        return run(
            [
                ("GET /orders with the token", lambda: endpoint.accepts(value)),
                ("alarm notification", lambda: account.notification(deployed)),
                ("smoke suite", lambda: endpoint.smoke(value)),
            ],
            out,
        )

    if token:
        return with_token(token)
    if not create_user:
        print(
            f"{FAIL} token: none given: set TOKEN=<access token>, or let the check create (and "
            "delete) a user in the stage's user pool: CREATE_USER=1",
            file=out,
        )
        return False
    try:
        with account.test_user(deployed) as (username, access_token):
            print(f"{OK} test user: {username} created and signed in", file=out, flush=True)
            passed = with_token(access_token)
    except Failed as failure:
        print(f"{FAIL} test user: {' '.join(str(failure).split())}", file=out)
        return False
    print(f"{OK} test user: {username} deleted", file=out)
    return passed


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Exit status 0 when every check passes, else 1 (the failing line says why)."""
    parser = argparse.ArgumentParser(prog="python -m infra.verify", description=__doc__)
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE", help="a CDK knob"
    )
    parser.add_argument(
        "--create-user",
        action="store_true",
        help="without TOKEN: create a test user in the stage's user pool, delete it at the end",
    )
    args = parser.parse_args(argv)
    try:
        config = stage_config(args.context)
    except ValueError as error:
        print(f"{FAIL} context: {error}", file=out)
        return 1
    session = botocore.session.Session()
    account = Account(session, cli_region(session))
    token = os.environ.get("TOKEN") or None
    return 0 if verify(account, config.stack_name, token, args.create_user, out) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``make verify``: the deployed stack proves itself, one line per check.

``python -m infra.verify [-c key=value ...] [--create-user]`` reads the stage's stack outputs
(CloudFormation ``DescribeStacks``), then checks the real endpoint and the alarm topic: the
public routes answer anonymously, ``/orders`` refuses a request without a token as API Gateway's
authorizer does, a token is accepted and the smoke suite passes with it, and one alarm's
notification is delivered. It stops at the first failure, naming what to look at (exit status 1).

botocore comes from the ``infra`` dependency group: nothing here is in the Lambda bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

OK, FAIL = "ok  ", "FAIL"


class Failed(Exception):
    """A check failed; the message says what was found and what to look at, in one line."""


Check = tuple[str, Callable[[], str]]


def run(checks: Iterable[Check], out: TextIO) -> bool:
    """Run ``checks`` in order, printing ``ok   <name>: <detail>`` for each; on the first
    failure ``FAIL <name>: <why>`` and False."""
    for name, check in checks:
        try:
            detail = check()
        except Failed as failure:
            print(f"{FAIL} {name}: {' '.join(str(failure).split())}", file=out, flush=True)
            return False
        print(f"{OK} {name}: {detail}", file=out, flush=True)
    return True

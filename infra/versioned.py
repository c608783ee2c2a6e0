"""Resources that are new for each published version of the function."""

from __future__ import annotations

import hashlib

import jsii
from aws_cdk import CfnElement, IResolveContext, IStringProducer, Lazy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_


def per_version(alarm: cloudwatch.Alarm, version: lambda_.IVersion) -> None:
    """Give ``alarm`` a logical id per ``version``: each new version is a new resource.

    ``current_version`` names its ``AWS::Lambda::Version`` after a hash of the function's
    configuration and code; the alarm's logical id takes a hash of that name. CloudFormation
    creates the new alarm (state INSUFFICIENT_DATA) and deletes the previous one in the update's
    cleanup, instead of updating one alarm in place with the state it had.
    """
    resource = alarm.node.default_child
    target = version.node.default_child
    assert isinstance(resource, CfnElement)  # noqa: S101 - an Alarm's resource
    assert isinstance(target, CfnElement)  # noqa: S101 - a Version's resource
    stack = Stack.of(alarm)
    base = stack.resolve(resource.logical_id)

    resource.override_logical_id(Lazy.uncached_string(_VersionedId(stack, base, target)))


@jsii.implements(IStringProducer)
class _VersionedId:
    """``base`` and a hash of ``version``'s logical id, known only once the stack synthesizes."""

    def __init__(self, stack: Stack, base: str, version: CfnElement) -> None:
        self.stack, self.base, self.version = stack, base, version

    def produce(self, context: IResolveContext) -> str:
        name = str(self.stack.resolve(self.version.logical_id))
        return f"{self.base}{hashlib.sha256(name.encode()).hexdigest()[:8].upper()}"

"""Evaluate a synthesized template's resource policies as IAM would, for one request.

Covers what the stack's policies use and no more: Allow/Deny, ``Principal`` (``*``, ``AWS``,
``Service``), ``Action`` and ``Resource`` with wildcards, and the condition operators
``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike`` and ``Bool``. Anything else
(``NotPrincipal``, ``NotAction``, ``NotResource``, another operator, ``...IfExists``) raises, so a
policy this cannot read fails the test instead of passing it. Rules from the IAM User Guide
("Policy evaluation logic", "IAM JSON policy elements: Condition operators"): an explicit Deny
wins, else an explicit Allow, else the request is denied; a condition key missing from the
request makes its condition false; values listed for one key are ORed, keys and operators ANDed.

Templates hold intrinsic functions: ``Resolver`` turns them into strings for one account and
region (``Ref`` and ``Fn::GetAtt`` of the stack's own resources, ``Fn::Join``, pseudo parameters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ACCOUNT, REGION, PARTITION = "111122223333", "eu-west-1", "aws"
OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool"}


@dataclass(frozen=True)
class Request:
    """Who asks (``("Service", "cloudwatch.amazonaws.com")`` or ``("AWS", arn)``) to do what."""

    principal: tuple[str, str]
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def allowed(policy: dict[str, Any], request: Request) -> bool:
    """IAM's decision for ``request`` under this one (resource) policy: True only on Allow."""
    statements = policy["Statement"]
    matching = [s for s in statements if _applies(s, request)]
    if any(s["Effect"] == "Deny" for s in matching):
        return False
    return any(s["Effect"] == "Allow" for s in matching)


def _applies(statement: dict[str, Any], request: Request) -> bool:
    unknown = set(statement) - {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
    if unknown:
        raise NotImplementedError(f"policy elements not evaluated here: {sorted(unknown)}")
    return (
        _principal(statement["Principal"], request.principal)
        and any(_like(p, request.action, fold=True) for p in _list(statement["Action"]))
        and any(_like(p, request.resource) for p in _list(statement["Resource"]))
        and all(
            _condition(op, key, _list(values), request.context)
            for op, keys in statement.get("Condition", {}).items()
            for key, values in keys.items()
        )
    )


def _principal(principal: Any, who: tuple[str, str]) -> bool:
    if principal == "*":
        return True
    kind, name = who
    return any(p == "*" or p == name for p in _list(principal.get(kind, [])))


def _condition(operator: str, key: str, values: list[str], context: dict[str, str]) -> bool:
    if operator not in OPERATORS:
        raise NotImplementedError(f"condition operator not evaluated here: {operator}")
    if key not in context:
        return False
    actual = context[key]
    if operator == "StringEquals":
        return actual in values
    if operator == "StringLike":
        return any(_like(v, actual) for v in values)
    if operator == "Bool":
        return actual.lower() in (str(v).lower() for v in values)
    if operator == "ArnEquals":
        return actual in values
    # ArnLike: each of the six colon-separated parts matches on its own.
    parts = actual.split(":", 5)
    return any(
        len(v.split(":", 5)) == len(parts) == 6
        and all(_like(p, a) for p, a in zip(v.split(":", 5), parts, strict=True))
        for v in values
    )


def _like(pattern: str, value: str, *, fold: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if fold else 0) is not None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Resolver:
    """Intrinsic functions of one template, resolved for ``ACCOUNT`` in ``REGION``."""

    def __init__(self, template: dict[str, Any], version: str = "1") -> None:
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.version = version  # what Lambda numbers the template's published version

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self.ref(argument)
            if name == "Fn::GetAtt":
                return self.get_att(*argument)
            if name == "Fn::Join":
                separator, items = argument
                return separator.join(str(self(i)) for i in items)
        return {k: self(v) for k, v in value.items()}

    def ref(self, name: str) -> str:
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack"}  # fmt: skip
        if name in pseudo:
            return pseudo[name]
        kind = self.resources[name]["Type"]
        if kind == "AWS::SNS::Topic":  # Ref of a topic is its ARN (its TopicName, if named)
            topic = self.resources[name]["Properties"].get("TopicName", name)
            return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{self(topic)}"
        if kind == "AWS::CloudWatch::Alarm":  # Ref of an alarm is its name
            return str(self(self.resources[name]["Properties"].get("AlarmName", f"stack-{name}")))
        return name

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resources[name]["Type"]
        if (kind, attribute) == ("AWS::KMS::Key", "Arn"):
            return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}"
        if (kind, attribute) == ("AWS::Lambda::Version", "Version"):  # the number published
            return self.version
        if (kind, attribute) == ("AWS::CloudWatch::Alarm", "Arn"):
            return f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{self.ref(name)}"
        raise NotImplementedError(f"Fn::GetAtt {name}.{attribute} ({kind})")

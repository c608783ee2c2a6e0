"""The policy evaluator the alarm-delivery tests rely on, against the IAM User Guide's rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.iam import Request, allowed

TOPIC = "arn:aws:sns:eu-west-1:111122223333:alarms"
SERVICE = ("Service", "cloudwatch.amazonaws.com")


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": TOPIC}  # fmt: skip


def test_nothing_allowed_is_denied_and_a_deny_beats_an_allow() -> None:
    publish = Request(SERVICE, "sns:Publish", TOPIC)
    assert not allowed(policy(), publish)
    assert allowed(policy(ALLOW), publish)
    deny = {**ALLOW, "Effect": "Deny", "Principal": "*"}
    assert not allowed(policy(ALLOW, deny), publish)


def test_actions_match_case_insensitively_with_wildcards_resources_exactly() -> None:
    assert allowed(policy({**ALLOW, "Action": "SNS:Pub*"}), Request(SERVICE, "sns:Publish", TOPIC))
    assert not allowed(policy(ALLOW), Request(SERVICE, "sns:Subscribe", TOPIC))
    assert not allowed(policy(ALLOW), Request(SERVICE, "sns:Publish", TOPIC.upper()))
    assert not allowed(
        policy(ALLOW), Request(("Service", "events.amazonaws.com"), "sns:Publish", TOPIC)
    )


def test_conditions_and_keys_and_ors_values_and_a_missing_key_is_false() -> None:
    conditioned = {
        **ALLOW,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ["111122223333", "444455556666"]},
            "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:111122223333:alarm:orders-*"},
        },
    }
    arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-api-dev-LambdaErrors"
    good = {"aws:SourceAccount": "444455556666", "aws:SourceArn": arn}
    assert allowed(policy(conditioned), Request(SERVICE, "sns:Publish", TOPIC, good))
    assert not allowed(
        policy(conditioned), Request(SERVICE, "sns:Publish", TOPIC, {"aws:SourceArn": arn})
    )
    other = {**good, "aws:SourceArn": arn.replace("orders-", "billing-")}
    assert not allowed(policy(conditioned), Request(SERVICE, "sns:Publish", TOPIC, other))
    # ArnLike compares each of the six parts: a wildcard does not reach across a colon.
    colon = {
        **conditioned,
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:alarm:*"}},
    }
    assert not allowed(policy(colon), Request(SERVICE, "sns:Publish", TOPIC, good))


def test_bool_compares_the_string_value() -> None:
    deny_http = {**ALLOW, "Effect": "Deny", "Principal": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
    both = policy(ALLOW, deny_http)
    assert allowed(both, Request(SERVICE, "sns:Publish", TOPIC, {"aws:SecureTransport": "true"}))
    assert not allowed(
        both, Request(SERVICE, "sns:Publish", TOPIC, {"aws:SecureTransport": "false"})
    )


@pytest.mark.parametrize(
    "statement",
    [
        {**ALLOW, "Condition": {"StringNotEquals": {"aws:SourceAccount": "1"}}},
        {**ALLOW, "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}},
        {k: v for k, v in ALLOW.items() if k != "Principal"} | {"NotPrincipal": "*"},
    ],
)
def test_what_it_cannot_evaluate_raises_instead_of_passing(statement: dict[str, Any]) -> None:
    with pytest.raises(NotImplementedError):
        allowed(
            policy(statement), Request(SERVICE, "sns:Publish", TOPIC, {"aws:SourceAccount": "1"})
        )

"""Every alarm action reaches its topic: the topic and key policies evaluated as AWS would.

CloudWatch publishes an alarm's notification as the service principal
``cloudwatch.amazonaws.com``, with the alarm as ``aws:SourceArn`` and its account as
``aws:SourceAccount`` (CloudWatch user guide, "Cross-service confused deputy prevention"). To an
encrypted topic SNS then asks KMS for a data key on CloudWatch's behalf, with the encryption
context ``{"aws:sns:topicArn": <topic>}``; AWS's documented key policy for that call names no
``aws:Source*`` key (Amazon SNS developer guide, "Enable compatibility between event sources from
AWS services and encrypted topics": https://docs.aws.amazon.com/sns/latest/dg/
sns-key-management.html#compatibility-with-aws-services), so the KMS requests here carry only
what AWS documents for them: the encryption context.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.iam import ACCOUNT, PARTITION, REGION, Request, Resolver, allowed

CLOUDWATCH = ("Service", "cloudwatch.amazonaws.com")
OTHER_ACCOUNT = "444455556666"


def _policies(s: Synthesized, topic_arn: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(topic policy, key ARN, key policy) of the topic whose ARN is ``topic_arn``."""
    resolve = Resolver(s.template_json)
    (topic_id,) = [i for i in s.resources("AWS::SNS::Topic") if resolve.ref(i) == topic_arn]
    statements = [
        statement
        for policy in s.resources("AWS::SNS::TopicPolicy").values()
        if topic_arn in resolve(policy["Properties"]["Topics"])
        for statement in resolve(policy["Properties"]["PolicyDocument"])["Statement"]
    ]
    assert statements, "no topic policy: SNS's default policy is not evaluated here"
    key_arn = resolve(s.resources("AWS::SNS::Topic")[topic_id]["Properties"]["KmsMasterKeyId"])
    (key,) = [k for i, k in s.resources("AWS::KMS::Key").items()
              if resolve.get_att(i, "Arn") == key_arn]  # fmt: skip
    return {"Statement": statements}, key_arn, resolve(key["Properties"]["KeyPolicy"])


def _publish(topic: str, key: str, context: dict[str, str]) -> list[Request]:
    """What delivering one notification asks: sns:Publish (the alarm's context), then KMS for
    SNS's data key (the encryption context SNS sends, nothing else)."""
    encryption = {"kms:EncryptionContext:aws:sns:topicArn": topic}
    return [
        Request(CLOUDWATCH, "sns:Publish", topic, context),
        Request(CLOUDWATCH, "kms:GenerateDataKey", key, encryption),
        Request(CLOUDWATCH, "kms:Decrypt", key, encryption),
    ]


def _delivered(s: Synthesized, topic_arn: str, context: dict[str, str]) -> list[bool]:
    topic_policy, key_arn, key_policy = _policies(s, topic_arn)
    requests = _publish(topic_arn, key_arn, context)
    return [allowed(topic_policy, requests[0])] + [allowed(key_policy, r) for r in requests[1:]]


def test_every_alarm_action_is_allowed_to_publish(stage: Synthesized) -> None:
    resolve = Resolver(stage.template_json)
    alarms = stage.resources("AWS::CloudWatch::Alarm")
    assert alarms
    for alarm_id, alarm in alarms.items():
        properties = alarm["Properties"]
        actions = resolve(properties.get("AlarmActions", []) + properties.get("OKActions", []))
        assert len(actions) == 2, alarm_id  # ALARM and OK both notify
        context = {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": resolve.get_att(alarm_id, "Arn"),
            "aws:SecureTransport": "true",
        }
        for topic_arn in actions:
            assert _delivered(stage, topic_arn, context) == [True, True, True], alarm_id


@pytest.mark.parametrize(
    ("who", "alarm_arn"),
    [
        pytest.param(
            OTHER_ACCOUNT,
            f"arn:{PARTITION}:cloudwatch:{REGION}:{OTHER_ACCOUNT}:alarm:orders-api-dev-Errors",
            id="another account's alarm",
        ),
        pytest.param(
            ACCOUNT,
            f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:someone-elses-alarm",
            id="another alarm in the account",
        ),
    ],
)
def test_cloudwatch_cannot_publish_for_other_alarms(
    stage: Synthesized, who: str, alarm_arn: str
) -> None:
    """The confused deputy: CloudWatch acting for an alarm that is not the stack's."""
    resolve = Resolver(stage.template_json)
    (topic_id,) = stage.resources("AWS::SNS::Topic")
    context = {"aws:SourceAccount": who, "aws:SourceArn": alarm_arn, "aws:SecureTransport": "true"}
    # The topic refuses the publish; the key is never asked.
    assert _delivered(stage, resolve.ref(topic_id), context)[0] is False


def test_the_key_policy_is_awss_documented_statement_narrowed_to_the_topic(
    stage: Synthesized,
) -> None:
    """The documented statement (CloudWatch, kms:Decrypt and kms:GenerateDataKey*, Resource *),
    with one condition only: the encryption context that names this topic."""
    resolve = Resolver(stage.template_json)
    (topic_id,) = stage.resources("AWS::SNS::Topic")
    topic_arn = resolve.ref(topic_id)
    _, key_arn, key_policy = _policies(stage, topic_arn)
    (statement,) = [s for s in key_policy["Statement"]
                    if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]  # fmt: skip
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Resource"] == "*"
    assert statement["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}
    }
    # A data key for another topic encrypted with the same key is refused, with or without the
    # aws:Source* keys (which the key policy does not read).
    other = f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:another-topic"
    for context in ({}, {"aws:SourceAccount": ACCOUNT}):
        request = Request(CLOUDWATCH, "kms:GenerateDataKey", key_arn,
                          context | {"kms:EncryptionContext:aws:sns:topicArn": other})  # fmt: skip
        assert not allowed(key_policy, request)
    # Without an encryption context (not a request SNS makes for a topic): refused too.
    assert not allowed(key_policy, Request(CLOUDWATCH, "kms:Decrypt", key_arn))


def test_publishing_over_plain_http_is_denied_and_the_key_stays_manageable(
    stage: Synthesized,
) -> None:
    resolve = Resolver(stage.template_json)
    (alarm_id, _), *_ = stage.resources("AWS::CloudWatch::Alarm").items()
    (topic_id,) = stage.resources("AWS::SNS::Topic")
    topic_arn = resolve.ref(topic_id)
    topic_policy, key_arn, key_policy = _policies(stage, topic_arn)
    context = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": resolve.get_att(alarm_id, "Arn")}
    over_http = Request(
        CLOUDWATCH, "sns:Publish", topic_arn, context | {"aws:SecureTransport": "false"}
    )
    assert not allowed(topic_policy, over_http)
    root = ("AWS", f"arn:{PARTITION}:iam::{ACCOUNT}:root")
    assert allowed(key_policy, Request(root, "kms:PutKeyPolicy", key_arn))

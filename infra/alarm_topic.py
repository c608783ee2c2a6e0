"""The alarm topic: SSE-KMS with a customer managed key, TLS only, CloudWatch alarms allowed.

CloudWatch publishes an alarm's notification as ``cloudwatch.amazonaws.com``; to an encrypted
topic SNS then asks KMS for a data key on CloudWatch's behalf, so both the topic's policy and the
key's must allow CloudWatch. Each carries the conditions AWS documents for its own request.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.context import StageConfig

# What CloudWatch may do with the topic's key: SNS asks for a data key on CloudWatch's behalf.
TOPIC_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
# The encryption context SNS gives KMS for a topic's data keys: {"aws:sns:topicArn": <topic>}.
TOPIC_ARN_CONTEXT_KEY = "kms:EncryptionContext:aws:sns:topicArn"


def alarm_topic(scope: Construct, config: StageConfig, alarm_prefix: str) -> sns.Topic:
    """The encrypted topic every alarm notifies, and the policies that let CloudWatch use it."""
    # CloudWatch publishes to an encrypted topic only with a customer managed key it may use.
    key = kms.Key(
        scope,
        "TopicKey",
        description=f"Orders API ({config.stage}) alarm topic encryption",
        enable_key_rotation=True,
        # dev's goes with the stack, as its other resources do (deleted after the waiting
        # period KMS requires, 7 to 30 days); prod's outlives it like its table and logs.
        removal_policy=RemovalPolicy.RETAIN if config.is_prod else RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )
    # Named, so that the key's policy can name the topic without a circular reference.
    topic_name = f"orders-api-{config.stage}-alarms"
    topic = sns.Topic(
        scope,
        "Alarms",
        topic_name=topic_name,
        display_name=f"Orders API ({config.stage}) alarms",
        master_key=key,
        enforce_ssl=True,
    )
    # A topic policy replaces SNS's default one, and enforce_ssl's holds only a Deny: CloudWatch
    # is allowed explicitly, on behalf of this stack's alarms only (confused deputy), where
    # AWS documents those keys: on the topic (aws:SourceArn, aws:SourceAccount).
    cloudwatch_alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchAlarmsPublish",
            principals=[cloudwatch_alarms],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=_alarm_source(scope, alarm_prefix),
        )
    )
    # The key: AWS's documented statement for CloudWatch alarms to an encrypted topic (Amazon
    # SNS developer guide, "Enable compatibility between event sources from AWS services and
    # encrypted topics": https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    # #compatibility-with-aws-services) carries no aws:Source* condition, and nothing AWS
    # publishes says those keys reach KMS when SNS asks for the data key. It is narrowed by
    # the encryption context SNS sends, which AWS documents for key policies of SNS topics
    # ("kms:EncryptionContext:aws:sns:topicArn", e.g. Amazon GameLift FlexMatch guide, "Set up
    # an SNS topic with server-side encryption": https://docs.aws.amazon.com/gamelift/latest/
    # flexmatchguide/queue-notification-sns-sse.html): data keys for this topic only.
    topic_arn = Stack.of(scope).format_arn(service="sns", resource=topic_name)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchAlarmsEncrypt",
            principals=[cloudwatch_alarms],
            actions=list(TOPIC_KEY_ACTIONS),
            resources=["*"],
            conditions={"StringEquals": {TOPIC_ARN_CONTEXT_KEY: topic_arn}},
        )
    )
    if config.alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
    return topic


def _alarm_source(scope: Construct, alarm_prefix: str) -> dict[str, dict[str, str]]:
    stack = Stack.of(scope)
    alarms = stack.format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name=f"{alarm_prefix}*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": alarms},
    }

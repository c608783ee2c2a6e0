"""Checks through the AWS APIs (botocore): the stack's outputs, a test user, alarm delivery."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from infra.verify import Failed

CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
)
# The stack's outputs this reads (infra/stack.py); the pool's only with the default identity.
REQUIRED_OUTPUTS = ("ApiUrl", "AlarmTopicArn", "NotificationCheckAlarm")
POOL_OUTPUTS = ("UserPoolId", "UserPoolClientId")
# How long CloudWatch may take to run an alarm's action and record it in the alarm history.
DELIVERY_WAIT = 90.0
# What the alarm history says of an action (the re:Post article "Why didn't I receive an SNS
# notification for my CloudWatch alarm trigger?": https://repost.aws/knowledge-center/
# cloudwatch-receive-sns-for-alarm-trigger): "Successfully executed action <arn>", or
# "Failed to execute action <arn>. Received error: ...".
SUCCEEDED, FAILED = "Successfully executed action", "Failed to execute action"


@dataclass(frozen=True, slots=True)
class Deployed:
    """What the stack's outputs say."""

    stack: str
    outputs: dict[str, str]

    @property
    def api_url(self) -> str:
        return self.outputs["ApiUrl"]


class Account:
    """The AWS account and Region the stack was deployed to, through botocore's clients."""

    def __init__(self, session: Any, region: str) -> None:
        self.session = session
        self.region = region

    def client(self, service: str) -> Any:
        return self.session.create_client(service, region_name=self.region, config=CLIENT_CONFIG)

    def outputs(self, stack: str) -> Deployed:
        """The stack's outputs (DescribeStacks); Failed when it is missing or incomplete."""
        try:
            (found,) = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", str(error))
            if "does not exist" in message:
                raise Failed(
                    f"stack {stack} not found in {self.region}: deploy it (`make deploy`), or "
                    "set AWS_REGION to the Region it was deployed to"
                ) from None
            raise Failed(f"DescribeStacks {stack}: {message}") from None
        except NoCredentialsError:
            raise Failed(
                "no AWS credentials found: use those `make deploy` used (AWS_PROFILE, "
                "`aws configure`, `aws sso login`)"
            ) from None
        except BotoCoreError as error:
            raise Failed(f"DescribeStacks {stack} in {self.region}: {error}") from None
        status = found.get("StackStatus", "")
        if not status.endswith("_COMPLETE") or "ROLLBACK" in status or "DELETE" in status:
            raise Failed(f"stack {stack} is {status}: see its events (CloudFormation console)")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
        missing = [k for k in REQUIRED_OUTPUTS if k not in outputs]
        if missing:
            raise Failed(
                f"stack {stack} has no output {', '.join(missing)}: deploy this version of the "
                "stack (`make deploy`)"
            )
        return Deployed(stack, outputs)

    @contextmanager
    def test_user(self, deployed: Deployed) -> Iterator[tuple[str, str]]:
        """A user created in the stage's user pool, and its access token; deleted afterwards."""
        if any(k not in deployed.outputs for k in POOL_OUTPUTS):
            raise Failed(
                f"stack {deployed.stack} has no Cognito user pool (an oidc-issuer is "
                "configured): give TOKEN=<access token from your issuer> instead"
            )
        pool, client_id = (deployed.outputs[k] for k in POOL_OUTPUTS)
        cognito = self.client("cognito-idp")
        username = f"verify-{secrets.token_hex(6)}"
        # The pool's policy: 12+ characters with lower and upper case, digits and symbols.
        password = f"Vf{secrets.token_urlsafe(24)}7!a"
        try:
            cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
        except (ClientError, BotoCoreError) as error:
            raise Failed(f"cannot create a user in user pool {pool}: {_reason(error)}") from None
        try:
            cognito.admin_set_user_password(
                UserPoolId=pool, Username=username, Password=password, Permanent=True
            )
            tokens = cognito.initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )["AuthenticationResult"]
        except (ClientError, BotoCoreError, KeyError) as error:
            self._delete(cognito, pool, username)
            raise Failed(
                f"cannot sign test user {username} in with client {client_id}: {_reason(error)}"
            ) from None
        try:
            yield username, str(tokens["AccessToken"])
        finally:
            self._delete(cognito, pool, username)

    @staticmethod
    def _delete(cognito: Any, pool: str, username: str) -> None:
        try:
            cognito.admin_delete_user(UserPoolId=pool, Username=username)
        except (ClientError, BotoCoreError) as error:
            raise Failed(
                f"could not delete test user {username} from {pool} ({_reason(error)}): "
                f"delete it: aws cognito-idp admin-delete-user --user-pool-id {pool} "
                f"--username {username}"
            ) from None

    def notification(self, deployed: Deployed, *, wait: float = DELIVERY_WAIT) -> str:
        """Set the kept alarm to ALARM; the alarm history must show its SNS action succeeded."""
        alarm, topic = deployed.outputs["NotificationCheckAlarm"], deployed.outputs["AlarmTopicArn"]
        cloudwatch = self.client("cloudwatch")
        since = datetime.now(UTC) - timedelta(seconds=5)
        try:
            (found,) = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
            if found["StateValue"] == "ALARM":  # only a change of state runs the actions
                cloudwatch.set_alarm_state(
                    AlarmName=alarm, StateValue="OK", StateReason="make verify: reset"
                )
            cloudwatch.set_alarm_state(
                AlarmName=alarm, StateValue="ALARM", StateReason="make verify: delivery test"
            )
        except ValueError:
            raise Failed(f"alarm {alarm} not found: deploy this version of the stack") from None
        except (ClientError, BotoCoreError) as error:
            raise Failed(f"cannot set alarm {alarm} to ALARM: {_reason(error)}") from None
        deadline = time.monotonic() + wait
        while True:
            for summary in self._actions(cloudwatch, alarm, since):
                if summary.startswith(FAILED):
                    raise Failed(
                        f"alarm {alarm}: {summary} — check the topic's and its KMS key's "
                        "policies (docs/operations.md, Alarms)"
                    )
                if summary.startswith(SUCCEEDED) and topic in summary:
                    return f"{alarm} → ALARM; alarm history: {summary}"
            if time.monotonic() > deadline:
                raise Failed(
                    f"alarm {alarm}: no action in its history {wait:.0f} s after ALARM: check "
                    "that its actions are enabled and name the topic " + topic
                )
            time.sleep(3.0)

    @staticmethod
    def _actions(cloudwatch: Any, alarm: str, since: datetime) -> list[str]:
        try:
            items = cloudwatch.describe_alarm_history(
                AlarmName=alarm, HistoryItemType="Action", StartDate=since, MaxRecords=10
            )["AlarmHistoryItems"]
        except (ClientError, BotoCoreError) as error:
            raise Failed(f"cannot read the history of alarm {alarm}: {_reason(error)}") from None
        return [str(item.get("HistorySummary", "")) for item in items]


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip(": ")
    return " ".join(str(error).split())

"""What CloudWatch does on an alarm's change of state and moto does not: run its actions.

moto's CloudWatch keeps an alarm's state (``SetAlarmState``) but neither executes the actions
nor answers ``DescribeAlarmHistory``. This adds both to moto's server in this process, as AWS
documents them: on a change to ALARM, OK or INSUFFICIENT_DATA, CloudWatch runs the actions for
the new state, if actions are enabled ("Using Amazon CloudWatch alarms", Alarm actions:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html), and
records each in the alarm history as an ``Action`` item: "Successfully executed action <arn>",
or "Failed to execute action <arn>. Received error: ..." (re:Post, "Why didn't I receive an SNS
notification for my CloudWatch alarm trigger?": https://repost.aws/knowledge-center/
cloudwatch-receive-sns-for-alarm-trigger; ``DescribeAlarmHistory``: https://docs.aws.amazon.com/
AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html).

An SNS action is a publish to moto's SNS topic: it fails when the topic does not exist. What
it cannot show is what only AWS decides: whether the topic's policy and its KMS key's policy let
CloudWatch publish (tests/infra/test_alarm_delivery.py evaluates those from the template).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.sns.models import sns_backends

# (account, region, alarm) → history items, newest last.
HISTORY: dict[tuple[str, str, str], list[dict[str, Any]]] = {}


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add action execution and ``DescribeAlarmHistory`` to moto's CloudWatch (this process)."""
    HISTORY.clear()
    set_state = CloudWatchResponse.set_alarm_state

    def set_alarm_state(self: CloudWatchResponse) -> Any:
        name = self._get_param("AlarmName")
        alarm = self.cloudwatch_backend.alarms.get(name)
        before = alarm.state_value if alarm else None
        result = set_state(self)
        alarm = self.cloudwatch_backend.alarms[name]
        if alarm.state_value != before and alarm.actions_enabled:
            actions = {
                "ALARM": alarm.alarm_actions,
                "OK": alarm.ok_actions,
                "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
            }[alarm.state_value]
            items = HISTORY.setdefault((self.current_account, self.region, name), [])
            for arn in actions or []:
                items.append(_execute(self.current_account, self.region, name, arn, alarm))
        return result

    def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
        name = self._get_param("AlarmName")
        kind = self._get_param("HistoryItemType")
        start = self._get_param("StartDate")
        items = [
            item
            for item in HISTORY.get((self.current_account, self.region, name), [])
            if (kind is None or item["HistoryItemType"] == kind)
            and (start is None or item["Timestamp"] >= _utc(start))
        ]
        return ActionResult({"AlarmHistoryItems": list(reversed(items))})

    monkeypatch.setattr(CloudWatchResponse, "set_alarm_state", set_alarm_state)
    monkeypatch.setattr(
        CloudWatchResponse, "describe_alarm_history", describe_alarm_history, raising=False
    )


def _execute(account: str, region: str, name: str, arn: str, alarm: Any) -> dict[str, Any]:
    message = json.dumps({"AlarmName": name, "NewStateValue": alarm.state_value})
    try:
        sns_backends[account][region].publish(message=message, arn=arn)
    except Exception as error:
        summary = f'Failed to execute action {arn}. Received error: "{error}"'
        state = "Failed"
    else:
        summary, state = f"Successfully executed action {arn}", "Succeeded"
    return {
        "AlarmName": name,
        "AlarmType": "MetricAlarm",
        "Timestamp": datetime.now(UTC),
        "HistoryItemType": "Action",
        "HistorySummary": summary,
        "HistoryData": json.dumps({"actionState": state, "notificationResource": arn}),
    }


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

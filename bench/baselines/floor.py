"""The runtime's floor: a Lambda function that answers without doing anything.

What every warm invocation costs before a function does any work of its own: the runtime
client's Runtime API round trips, the event's JSON read and the answer's written. The warm-cost
section (bench/warm_cost.py) runs it beside ours and the baselines, so that a ratio against
Powertools + boto3 can be read against the lowest one any function reaches there. It answers
each route with the status the others answer it with, and an empty JSON object.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    created = event["requestContext"]["http"]["method"] == "POST"
    return {
        "statusCode": 201 if created else 200,
        "headers": {"content-type": "application/json"},
        "body": "{}",
    }

"""The expression helper names exactly the placeholders used (DynamoDB refuses any others).

Every request the store builds with it is exercised against moto's server by the store suites.
"""

from __future__ import annotations

import pytest

from app.store.dynamodb.expressions import with_expressions


def test_names_and_values_are_exactly_those_used() -> None:
    request = with_expressions(
        {"Key": {"pk": {"S": "alice"}}},
        {"one": 1, "from0": "CREATED", "items": [{"product": "latte"}]},
        UpdateExpression="SET #version = #version + :one, #items = :items",
        ConditionExpression="attribute_exists(#pk) AND #status IN (:from0)",
    )
    assert request == {
        "Key": {"pk": {"S": "alice"}},
        "UpdateExpression": "SET #version = #version + :one, #items = :items",
        "ConditionExpression": "attribute_exists(#pk) AND #status IN (:from0)",
        "ExpressionAttributeNames": {
            "#items": "items",
            "#pk": "pk",
            "#status": "status",
            "#version": "version",
        },
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":from0": {"S": "CREATED"},
            ":items": {"L": [{"M": {"product": {"S": "latte"}}}]},
        },
    }


def test_an_expression_without_values_sends_no_values() -> None:
    request = with_expressions({}, ConditionExpression="attribute_not_exists(#pk)")
    assert "ExpressionAttributeValues" not in request
    assert request["ExpressionAttributeNames"] == {"#pk": "pk"}


@pytest.mark.parametrize(
    ("values", "expression"),
    [
        ({}, "#version = :expected"),  # a placeholder without a value
        ({"expected": 1, "spare": 2}, "#version = :expected"),  # a value no expression uses
    ],
)
def test_placeholders_and_values_must_match(values: dict[str, int], expression: str) -> None:
    with pytest.raises(ValueError, match="placeholders"):
        with_expressions({}, values, ConditionExpression=expression)

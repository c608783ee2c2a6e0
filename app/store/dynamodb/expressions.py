"""Condition, update and key expressions in DynamoDB's own syntax, with their placeholders.

Every attribute is named through ``#<attribute>`` (``status``, ``items`` and ``ttl``-like names
are reserved words) and every value through ``:<name>``; ``with_expressions`` fills in
``ExpressionAttributeNames`` and ``ExpressionAttributeValues`` for exactly the placeholders used,
as DynamoDB refuses unused ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiodynamo.utils import py2dy

_NAME = re.compile(r"#(\w+)")
_VALUE = re.compile(r":(\w+)")


def with_expressions(
    payload: Mapping[str, Any], values: Mapping[str, Any] | None = None, **expressions: str
) -> dict[str, Any]:
    """``payload`` plus ``expressions`` (``ConditionExpression="attribute_exists(#pk)"``...),
    the names they use and ``values`` (``{"version": 3}`` for ``:version``), encoded."""
    values = values or {}
    text = " ".join(expressions.values())
    used = set(_VALUE.findall(text))
    if used != set(values):
        raise ValueError(f"placeholders {sorted(used)} but values for {sorted(values)}")
    request = {**payload, **expressions}
    names = {f"#{name}": name for name in sorted(set(_NAME.findall(text)))}
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = py2dy({f":{k}": v for k, v in values.items()})
    return request

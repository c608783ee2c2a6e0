"""The stack's knobs as ``make gateway`` takes them: ``-c key=value``, as ``make synth`` does."""

from __future__ import annotations

import json

from infra.asset import PROJECT_ROOT
from infra.context import StageConfig


def stack_context(pairs: list[str], stage: str) -> dict[str, str]:
    """``-c key=value`` knobs as ``make synth`` takes them (``CONTEXT``), checked as the stack
    checks them (``infra/context.py``): ValueError says what is wrong."""
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-c {pair}: expected key=value")
        context[key.strip()] = value
    cdk_json = json.loads((PROJECT_ROOT / "cdk.json").read_text()).get("context", {})
    StageConfig.from_context({**cdk_json, **context, "stage": stage}.get)
    return context

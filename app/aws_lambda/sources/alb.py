"""Application Load Balancer events (with or without multi-value headers)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from mangum.handlers import ALB
from mangum.types import LambdaConfig
from starlette.types import Scope

from app.aws_lambda.sources.base import ProxyResponse, check_common, check_payload_v1


class Alb(ALB):
    """Mangum's ALB handler, its events checked, its scope built once (see ``api_gateway``)."""

    @classmethod
    def infer(cls, event: Any, context: Any, config: LambdaConfig) -> bool:
        return _from_a_load_balancer(event)

    @staticmethod
    def multi_value(event: object) -> bool:
        """An ALB event with multi-value headers on: its answer must use them too."""
        return _from_a_load_balancer(event) and "multiValueHeaders" in event  # type: ignore[operator]

    @cached_property
    def scope(self) -> Scope:
        return super().scope

    def check(self) -> None:
        check_common(self.event, check_payload_v1(self.event, alb=True))

    def root_path(self) -> tuple[str, str]:
        return "", unquote(self.event["path"])

    def fix_response(self, response: ProxyResponse, app_headers: list[list[bytes]]) -> None:
        if "multiValueHeaders" not in self.event:
            response.setdefault("headers", {})


def _from_a_load_balancer(event: object) -> bool:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    return isinstance(context, Mapping) and "elb" in context

"""Checks against the deployed API over HTTPS: anonymous routes, the authorizer, the smoke suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from infra.verify import Failed

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 40.0  # above API Gateway's 30 s integration timeout (GET /hi waits on purpose)
# The public routes are throttled tightly (infra/anonymous.py): a 429 is waited out this long.
THROTTLE_PATIENCE = 30.0
# API Gateway's JWT authorizer refuses a request without a token with exactly this body.
UNAUTHORIZED = {"message": "Unauthorized"}
SMOKE_TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Endpoint:
    """The API at ``base_url`` (the stack's ``ApiUrl``)."""

    def __init__(self, base_url: str, *, patience: float = THROTTLE_PATIENCE) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.patience = patience

    def get(self, path: str, token: str | None = None) -> Answer:
        """GET ``path``; a throttled answer (429) is retried after a pause, within patience."""
        url = urljoin(self.base_url, path)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        deadline = time.monotonic() + self.patience
        while True:
            answer = self._get(url, headers)
            if answer.status != 429 or time.monotonic() > deadline:
                return answer
            time.sleep(2.0)

    def _get(self, url: str, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only
        if not url.startswith(("https://", "http://")):
            raise Failed(f"ApiUrl {self.base_url!r} is not an http(s) URL")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Failed(
                f"cannot reach {url} ({reason}): check the stack's ApiUrl output and that the "
                "API exists (API Gateway console, the stack's events)"
            ) from None

    def health(self) -> str:
        answer = self.get("health")
        if answer.status != 200 or answer.json() != {"status": "ok"}:
            raise Failed(_unexpected("GET /health", answer, 'expected 200 {"status":"ok"}'))
        return '200 {"status":"ok"}, anonymously'

    def greeting(self) -> str:
        started = time.monotonic()
        answer = self.get("hi")
        if answer.status != 200 or not isinstance(answer.json(), str):
            raise Failed(_unexpected("GET /hi", answer, "expected 200 and a greeting"))
        return f"200 {answer.json()!r} in {time.monotonic() - started:.1f} s, anonymously"

    def refuses_anonymous_orders(self) -> str:
        answer = self.get("orders")
        if (answer.status, answer.json()) != (401, UNAUTHORIZED):
            raise Failed(
                _unexpected(
                    "GET /orders without a token",
                    answer,
                    'expected API Gateway\'s 401 {"message":"Unauthorized"}: check that the '
                    "route has the JWT authorizer (the stack's ApiGatewayV2 routes)",
                )
            )
        return '401 {"message":"Unauthorized"} (API Gateway\'s JWT authorizer)'

    def accepts(self, token: str) -> str:
        answer = self.get("orders?limit=1", token)
        if answer.status != 200:
            raise Failed(
                _unexpected(
                    "GET /orders with the token",
                    answer,
                    "expected 200: give a Cognito access token (not an ID token) of the stack's "
                    "user pool client (outputs UserPoolId, UserPoolClientId) that has not expired, "
                    "or --create-user",
                )
            )
        return "200 with the token"

    def smoke(self, token: str) -> str:
        """The black-box suite (smoke/) with the token; it deletes what it creates."""
        env = {**os.environ, "BASE_URL": self.base_url, "TOKEN": token}
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "smoke"]
        try:
            result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
                command,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=SMOKE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Failed(f"the smoke suite ran longer than {SMOKE_TIMEOUT} s") from None
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        summary = lines[-1].strip("= ") if lines else "no output"
        if result.returncode != 0:
            raise Failed(
                f"{summary}: run `make smoke BASE_URL={self.base_url} TOKEN=...` for the details"
            )
        return summary


def _unexpected(what: str, answer: Answer, expected: str) -> str:
    body = answer.body[:120].decode("utf-8", "replace")
    return f"{what} answered {answer.status} {body}; {expected}"

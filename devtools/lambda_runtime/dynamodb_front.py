"""DynamoDB's endpoint as the function sees it: every request's key checked, then moto serves it.

moto accepts any signature. DynamoDB does not: a key it never issued is an
``UnrecognizedClientException``, an expired one an ``ExpiredTokenException``, a wrong
signature an ``InvalidSignatureException`` (HTTP 400, the JSON 1.0 error shape). This front
answers those itself and hands only validly signed requests on to moto, so a stale, baked-in
or made-up key fails a test instead of passing silently. It also records who signed what.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import httpx
from starlette.types import Receive, Scope, Send

from devtools.lambda_runtime.credentials import KeyRing, Verdict
from devtools.lambda_runtime.journal import Journal
from devtools.lambda_runtime.sigv4 import Authorization, verify

JSON_1_0 = "application/x-amz-json-1.0"
ERRORS = {
    "missing": (
        "MissingAuthenticationTokenException",
        "Request is missing Authentication Token",
    ),
    Verdict.UNKNOWN: (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    ),
    Verdict.EXPIRED: (
        "ExpiredTokenException",
        "The security token included in the request is expired",
    ),
    "signature": (
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.",
    ),
}
# Response headers moto sets that DynamoDB sends too.
_PASSED_ON = ("content-type", "x-amzn-requestid", "x-amz-crc32")


@dataclass(frozen=True)
class Seen:
    """One request the front answered: the key that signed it, the operation, the outcome."""

    access_key_id: str | None
    operation: str
    outcome: str  # "served" or the error code it was refused with


class DynamoDBFront:
    """An ASGI app in front of moto's server at ``upstream``; ``seen`` lists every request."""

    def __init__(self, keys: KeyRing, upstream: str) -> None:
        self.keys = keys
        self.upstream = upstream.rstrip("/")
        self.journal: Journal[Seen] = Journal()  # the newest requests, bounded
        self._client: httpx.AsyncClient | None = None

    def seen(self) -> list[Seen]:
        return self.journal.snapshot()

    @property
    def ready(self) -> bool:
        """The client to moto is built: the next request forwarded does not build it."""
        return self._client is not None

    def open(self) -> None:
        """Build the client to moto now, before the function's first request: building one
        (httpx loads its CA bundle) takes tens of milliseconds, which that request would
        otherwise wait for, an artifact DynamoDB's endpoint does not have."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        operation = headers.get("x-amz-target", "").rpartition(".")[2]
        authorization = Authorization.parse(headers.get("authorization"))
        refusal = self._refusal(scope, headers, body, authorization)
        key_id = authorization.access_key_id if authorization else None
        if refusal is not None:
            code, text = ERRORS[refusal]
            self._note(Seen(key_id, operation, code))
            payload = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": text})
            await _answer(send, 400, [("content-type", JSON_1_0)], payload.encode())
            return
        self.open()  # once per front (again after ``aclose``)
        assert self._client is not None  # noqa: S101 - open() built it
        forwarded = {k: v for k, v in headers.items() if k not in ("host", "content-length")}
        upstream = await self._client.post(self.upstream + "/", headers=forwarded, content=body)
        self._note(Seen(key_id, operation, "served"))
        passed = [(k, upstream.headers[k]) for k in _PASSED_ON if k in upstream.headers]
        await _answer(send, upstream.status_code, passed, upstream.content)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _refusal(
        self,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        authorization: Authorization | None,
    ) -> Verdict | str | None:
        if authorization is None:
            return "missing"
        verdict = self.keys.check(authorization.access_key_id, headers.get("x-amz-security-token"))
        if verdict is not Verdict.VALID:
            return verdict
        key = self.keys.lookup(authorization.access_key_id)
        assert key is not None  # noqa: S101 - VALID means issued
        signed = verify(
            authorization,
            key.secret_access_key,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
        )
        return None if signed else "signature"

    def _note(self, seen: Seen) -> None:
        self.journal.append(seen)


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers]
    if not any(k == "x-amzn-requestid" for k, _ in headers):
        raw.append((b"x-amzn-requestid", uuid.uuid4().hex.upper().encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

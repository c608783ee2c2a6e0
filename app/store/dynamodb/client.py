"""DynamoDB's JSON protocol, one attempt per call: sign, POST, decode the answer or the error.

Built from aiodynamo's parts (its SigV4 signer, credential chain and error types) on the store's
transport (app/store/dynamodb/transport.py), without aiodynamo's high-level ``Client``: that
module imports aiodynamo's expression, model and operation modules (dozens of dataclasses, built
at import), which a cold start would pay for and this store does not use; the store writes its
few requests itself (app/store/dynamodb/expressions.py).
Retries are app/store/dynamodb/retry.py's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiodynamo.credentials import Credentials
from aiodynamo.errors import ExpiredToken, NoCredentialsFound, exception_from_response
from aiodynamo.http.types import HttpImplementation, Request, RequestFailed
from aiodynamo.sign import signed_dynamo_request
from yarl import URL


class DynamoDBClient:
    def __init__(
        self,
        http: HttpImplementation,
        credentials: Credentials,
        region: str,
        *,
        endpoint: str | None = None,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._region = region
        self._endpoint = None if endpoint is None else URL(endpoint)

    async def send(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One signed request; DynamoDB's answer as JSON, or its error as aiodynamo's exception.

        Transport failures surface as httpcore's own exceptions and timeouts as ``TimeoutError``,
        which is what the retry policy classifies.
        """
        key = await self._credentials.get_key(self._http)
        if key is None:
            raise NoCredentialsFound()
        signed = signed_dynamo_request(
            key=key, payload=payload, action=action, region=self._region, endpoint=self._endpoint
        )
        request = Request("POST", str(signed.url), signed.headers, signed.body)
        try:
            response = await self._http(request)
        except RequestFailed as failed:
            raise failed.inner from None
        if response.status == 200:
            answer: dict[str, Any] = json.loads(response.body)
            return answer
        error = exception_from_response(response.status, response.body)
        if isinstance(error, ExpiredToken):
            # Drop the cached key: the next attempt fetches a fresh one.
            self._credentials.invalidate()
        raise error

"""Checking an AWS Signature Version 4 ``Authorization`` header, as a service does.

Only what DynamoDB's JSON protocol needs: POST to ``/`` with no query string, the payload hash
computed from the body. Clients that sign the ``host`` header without the port it was sent
with (aiodynamo does) are accepted both ways.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM} Credential=(?P<key>[^/]+)/(?P<date>\d{{8}})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<headers>[a-z0-9;-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @classmethod
    def parse(cls, header: str | None) -> Authorization | None:
        match = _AUTHORIZATION.match(header or "")
        if match is None:
            return None
        return cls(
            access_key_id=match["key"],
            date=match["date"],
            region=match["region"],
            service=match["service"],
            signed_headers=tuple(match["headers"].split(";")),
            signature=match["signature"],
        )

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def verify(
    authorization: Authorization,
    secret_access_key: str,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Whether ``authorization`` signs this request with ``secret_access_key``.

    ``headers`` are the request's headers with lower-case names.
    """
    host = headers.get("host", "")
    hosts = {host, host.rsplit(":", 1)[0]} if ":" in host else {host}
    for signed_host in hosts:
        values = {**headers, "host": signed_host}
        expected = signature(authorization, secret_access_key, method, path, query, values, body)
        if hmac.compare_digest(expected, authorization.signature):
            return True
    return False


def signature(
    authorization: Authorization,
    secret_access_key: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n"
        for name in authorization.signed_headers
    )
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            query,
            canonical_headers,
            ";".join(authorization.signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            headers.get("x-amz-date", ""),
            authorization.scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret_access_key}".encode()
    for part in (authorization.date, authorization.region, authorization.service):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    key = hmac.new(key, b"aws4_request", hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()

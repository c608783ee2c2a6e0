"""The execution role's temporary keys, as Lambda hands them out and DynamoDB checks them.

Each key is issued for a lifetime and is valid until it expires or is revoked (the emulator
revokes every key handed out before a SnapStart restore: the snapshot may be restored long
after they expired). The container-credentials endpoint serves them (``container_credentials``)
and the DynamoDB front asks ``check`` about every request's key.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class IssuedKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires: float  # epoch seconds
    purpose: str  # "environment" (AWS_ACCESS_KEY_ID...) or "container" (the endpoint)

    def container_credentials(self) -> dict[str, str]:
        """The JSON body of the container-credentials endpoint (as ECS and Lambda serve it)."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            # Whole seconds, rounded down: clients parse "%Y-%m-%dT%H:%M:%SZ".
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(self.expires))),
        }


class Verdict(Enum):
    VALID = "valid"
    UNKNOWN = "unknown"  # never issued (or a made-up token): DynamoDB's UnrecognizedClient
    EXPIRED = "expired"  # issued, but past its expiry or revoked: ExpiredToken


class KeyRing:
    """Every key issued in one emulator session; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, IssuedKey] = {}
        self._revoked: set[str] = set()

    def issue(self, lifetime: float, purpose: str) -> IssuedKey:
        key = IssuedKey(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30)[:40],
            session_token=secrets.token_urlsafe(96),
            expires=self._clock() + lifetime,
            purpose=purpose,
        )
        with self._lock:
            self._keys[key.access_key_id] = key
        return key

    def revoke_all(self) -> list[IssuedKey]:
        """Expire every key issued so far; the keys newly revoked."""
        with self._lock:
            fresh = [k for k in self._keys.values() if k.access_key_id not in self._revoked]
            self._revoked.update(k.access_key_id for k in fresh)
        return fresh

    def revoke(self, keys: list[IssuedKey]) -> None:
        """Expire these keys (those one environment took before its snapshot)."""
        with self._lock:
            self._revoked.update(k.access_key_id for k in keys)

    def lookup(self, access_key_id: str) -> IssuedKey | None:
        with self._lock:
            return self._keys.get(access_key_id)

    def check(self, access_key_id: str, session_token: str | None) -> Verdict:
        """What DynamoDB would make of a request signed with this key id and token."""
        with self._lock:
            key = self._keys.get(access_key_id)
            revoked = access_key_id in self._revoked
        if key is None or session_token != key.session_token:
            return Verdict.UNKNOWN
        if revoked or self._clock() >= key.expires:
            return Verdict.EXPIRED
        return Verdict.VALID

    def issued(self) -> list[IssuedKey]:
        """Every key issued so far, oldest first."""
        with self._lock:
            return list(self._keys.values())

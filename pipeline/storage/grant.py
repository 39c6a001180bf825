"""Storage grants: what a container without secrets may read and write in the blob store.

A container that decodes untrusted media (a render, a scene, a composition) holds no database
password and no storage key. It gets a grant instead: key prefixes it may read and write, until
an expiry, signed with the service's signing key. It presents the grant to the API's
``/v1/files/{key}`` routes, which check it and do the reading and writing.

Token: ``base64url(JSON)`` ``.`` ``base64url(HMAC-SHA256(key, that JSON))``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.storage.port import StorageError, validate_key

__all__ = ["GRANT_PURPOSE", "Grant", "InvalidGrant", "sign_grant", "verify_grant"]

GRANT_PURPOSE = b"reelforge storage grants"


class InvalidGrant(StorageError):
    """The storage grant is malformed, forged, expired, or does not cover the key."""

    def __init__(self, detail: str) -> None:
        super().__init__("grant", "-", detail)


class Grant(BaseModel):
    """Read and write access to keys under some prefixes until ``expires`` (unix seconds).

    A prefix ends with ``/`` and covers every key below it; writes imply reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    expires: int = Field(gt=0)

    def can_read(self, key: str) -> bool:
        return _covered(key, (*self.read, *self.write))

    def can_write(self, key: str) -> bool:
        return _covered(key, self.write)


def _covered(key: str, prefixes: tuple[str, ...]) -> bool:
    validate_key(key)
    return any(p.endswith("/") and key.startswith(p) for p in prefixes)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_grant(grant: Grant, key: bytes) -> str:
    body = grant.model_dump_json().encode()
    return f"{_b64(body)}.{_b64(hmac.new(key, body, hashlib.sha256).digest())}"


def verify_grant(token: str, key: bytes, *, now: Callable[[], float] = time.time) -> Grant:
    """The grant in ``token``; InvalidGrant when it is malformed, forged or expired."""
    try:
        body_part, mac_part = token.strip().split(".")
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (ValueError, binascii.Error):
        raise InvalidGrant("malformed") from None
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise InvalidGrant("bad signature")
    try:
        grant = Grant.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise InvalidGrant("malformed") from None
    if now() >= grant.expires:
        raise InvalidGrant("expired")
    return grant

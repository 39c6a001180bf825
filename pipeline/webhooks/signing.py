"""Standard Webhooks signing: ``whsec_`` secrets, ``v1,<base64 HMAC-SHA256>`` signatures and headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

__all__ = [
    "SECRET_PREFIX",
    "InvalidSecret",
    "generate_secret",
    "secret_key",
    "sign",
    "webhook_headers",
]

SECRET_PREFIX = "whsec_"
_MIN_KEY_BYTES = 24
_MAX_KEY_BYTES = 64


class InvalidSecret(ValueError):
    """The webhook secret is not ``whsec_`` followed by base64 of 24 to 64 bytes."""


def generate_secret(num_bytes: int = 32) -> str:
    """A new secret: ``whsec_`` + base64 of ``num_bytes`` (24 to 32) random bytes."""
    if not 24 <= num_bytes <= 32:
        raise ValueError("a webhook secret has 24 to 32 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(num_bytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: its base64 part decoded (the ``whsec_`` prefix is optional)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret() from exc
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise InvalidSecret()
    return key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """``v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`` with the secret's key."""
    signed = f"{msg_id}.{timestamp}.".encode() + _as_bytes(body)
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(
    *, secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes | str
) -> dict[str, str]:
    """The headers of one attempt; several secrets (key rotation) give space-separated signatures."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
        "content-type": "application/json",
    }

"""Inbound provider callbacks: Standard Webhooks signature checks (each event is recorded once by
``pipeline.store.providers``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from pipeline.errors import BadInput
from pipeline.webhooks.signing import InvalidSecret, secret_key

__all__ = ["TOLERANCE_SECONDS", "WebhookRejected", "verify_inbound"]

TOLERANCE_SECONDS = 300


class WebhookRejected(BadInput):
    """The webhook was rejected."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__("webhook", reason)


def _key(secret_or_key: str | bytes) -> bytes:
    if isinstance(secret_or_key, bytes):
        return secret_or_key
    try:
        return secret_key(secret_or_key)
    except InvalidSecret as exc:
        raise ValueError("the webhook verification secret is malformed") from exc


def verify_inbound(
    secret_or_key: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Accepts a Standard Webhooks request or raises WebhookRejected with the reason.

    Checks the three headers, that the timestamp is within ``tolerance`` seconds of ``now``
    either way, and that one ``v1`` signature matches, compared in constant time.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    raw_timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    missing = [
        n
        for n, v in (("id", msg_id), ("timestamp", raw_timestamp), ("signature", signatures))
        if not v
    ]
    if missing:
        raise WebhookRejected(f"missing webhook-{', webhook-'.join(missing)} header")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise WebhookRejected("malformed webhook-timestamp")
    age = now.timestamp() - int(raw_timestamp)
    if age > tolerance:
        raise WebhookRejected(f"timestamp is {age:.0f} s old (more than {tolerance} s)")
    if age < -tolerance:
        raise WebhookRejected(f"timestamp is {-age:.0f} s in the future (more than {tolerance} s)")
    signed = f"{msg_id}.{raw_timestamp}.".encode() + body
    expected = hmac.new(_key(secret_or_key), signed, hashlib.sha256).digest()
    matched = False
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Check every candidate, so the time taken says nothing about which one matched.
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise WebhookRejected("no matching signature")

"""Inbound provider callbacks: Standard Webhooks signature checks, and recording each event once."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from pipeline.errors import BadInput
from pipeline.store import Store
from pipeline.store.errors import from_driver
from pipeline.store.queries import query
from pipeline.webhooks.signing import InvalidSecret, secret_key

__all__ = [
    "TOLERANCE_SECONDS",
    "WebhookRejected",
    "mark_provider_event_processed",
    "newer_provider_event_exists",
    "record_provider_event",
    "verify_inbound",
]

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


def _run(
    store: Store, conn: psycopg.Connection[Any] | None, name: str, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    def execute(c: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
        try:
            with c.cursor() as cur:
                cur.execute(query(name), params)
                return list(cur.fetchall())
        except psycopg.Error as exc:
            raise from_driver(exc) from exc

    if conn is not None:
        return execute(conn)
    with store.as_service() as own:
        return execute(own)


def record_provider_event(
    *,
    store: Store,
    provider: str,
    event_id: str,
    payload: Mapping[str, Any],
    subject: str | None = None,
    occurred_at: datetime | None = None,
    conn: psycopg.Connection[Any] | None = None,
    job_id: UUID | None = None,
) -> bool:
    """Records a provider's event once: True the first time, False for a duplicate (do nothing).

    ``job_id``: the job the callback was issued for (its worker reads only its own callbacks).

    Pass ``conn`` (a service transaction) to record in the same transaction as the handler's
    state change, so a crash between them cannot mark an event seen but unhandled.
    ``subject`` and ``occurred_at`` let ``newer_provider_event_exists`` spot stale events.
    """
    params = {
        "provider": provider,
        "event_id": event_id,
        "payload": Jsonb(dict(payload)),
        "subject": subject,
        "occurred_at": occurred_at,
        "job_id": job_id,
    }
    return bool(_run(store, conn, "provider_event_record", params))


def newer_provider_event_exists(
    *,
    store: Store,
    provider: str,
    event_id: str,
    subject: str,
    occurred_at: datetime,
    conn: psycopg.Connection[Any] | None = None,
) -> bool:
    """Whether a newer event about ``subject`` arrived first: then this one is stale (out of
    order) and must not overwrite the state the newer one set."""
    params = {
        "provider": provider,
        "event_id": event_id,
        "subject": subject,
        "occurred_at": occurred_at,
    }
    return bool(_run(store, conn, "provider_event_newer_exists", params)[0][0])


def mark_provider_event_processed(
    *, store: Store, provider: str, event_id: str, conn: psycopg.Connection[Any] | None = None
) -> bool:
    """Marks the event handled; False if it was already marked or never recorded."""
    params = {"provider": provider, "event_id": event_id}
    return bool(_run(store, conn, "provider_event_mark_processed", params))

"""The webhook outbox: endpoints per tenant, deliveries enqueued in the caller's transaction,
claimed under a lease and settled attempt by attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from pipeline.store import NotFound, Store, StoreError
from pipeline.store.errors import from_driver
from pipeline.store.queries import query
from pipeline.webhooks.models import ClaimedDelivery, WebhookDelivery, WebhookEndpoint
from pipeline.webhooks.signing import generate_secret

__all__ = [
    "claim_delivery",
    "create_endpoint",
    "delete_endpoint",
    "enable_endpoint",
    "enqueue_webhook",
    "list_deliveries",
    "list_endpoints",
    "record_attempt",
    "rotate_secret",
]

M = TypeVar("M", bound=BaseModel)


def fetch(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any], model: type[M]
) -> list[M]:
    """Runs the named query in ``conn`` (the caller's transaction) and validates each row."""
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params)
            return [model.model_validate(row) for row in cur.fetchall()]
    except psycopg.Error as exc:
        raise from_driver(exc) from exc


def _one(rows: list[M], what: str) -> M:
    if len(rows) != 1:
        raise StoreError(f"{what} returned {len(rows)} rows instead of 1")
    return rows[0]


def create_endpoint(
    *, store: Store, user_id: UUID, url: str, events: Sequence[str] = ()
) -> WebhookEndpoint:
    """Adds an endpoint for the tenant with a new ``whsec_`` secret; no events means all events."""
    params = {"url": url, "secret": generate_secret(), "events": list(events)}
    with store.as_user(user_id) as conn:
        return _one(fetch(conn, "webhook_endpoint_create", params, WebhookEndpoint), "create")


def list_endpoints(*, store: Store, user_id: UUID) -> list[WebhookEndpoint]:
    """The tenant's endpoints, with whether each is enabled and why it was disabled."""
    with store.as_user(user_id) as conn:
        return fetch(conn, "webhook_endpoint_list", {}, WebhookEndpoint)


def delete_endpoint(*, store: Store, user_id: UUID, endpoint_id: UUID) -> None:
    """Deletes the tenant's endpoint and its deliveries; NotFound if it is not theirs."""
    with store.as_user(user_id) as conn, conn.cursor() as cur:
        try:
            cur.execute(query("webhook_endpoint_delete"), {"endpoint_id": endpoint_id})
            deleted = cur.fetchall()
        except psycopg.Error as exc:
            raise from_driver(exc) from exc
    if not deleted:
        raise NotFound("webhook endpoint", f"no endpoint {endpoint_id}")


def _update_endpoint(
    store: Store, user_id: UUID, name: str, params: Mapping[str, Any]
) -> WebhookEndpoint:
    with store.as_user(user_id) as conn:
        rows = fetch(conn, name, params, WebhookEndpoint)
    if not rows:
        raise NotFound("webhook endpoint", f"no endpoint {params['endpoint_id']}")
    return rows[0]


def rotate_secret(
    *, store: Store, user_id: UUID, endpoint_id: UUID, grace_seconds: int = 24 * 3600
) -> WebhookEndpoint:
    """Gives the endpoint a new secret; for ``grace_seconds`` attempts are signed with both."""
    params = {
        "endpoint_id": endpoint_id,
        "secret": generate_secret(),
        "grace_seconds": grace_seconds,
    }
    return _update_endpoint(store, user_id, "webhook_endpoint_rotate_secret", params)


def enable_endpoint(*, store: Store, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
    """Re-enables a disabled endpoint (deliveries that went dead meanwhile stay dead)."""
    return _update_endpoint(store, user_id, "webhook_endpoint_enable", {"endpoint_id": endpoint_id})


def list_deliveries(
    *, store: Store, user_id: UUID, endpoint_id: UUID | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The tenant's deliveries, newest first, with attempts and the last error."""
    params = {"endpoint_id": endpoint_id, "limit": limit}
    with store.as_user(user_id) as conn:
        return fetch(conn, "webhook_deliveries_list", params, WebhookDelivery)


def enqueue_webhook(
    *,
    conn: psycopg.Connection[Any],
    user_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    webhook_id: str | None = None,
) -> list[WebhookDelivery]:
    """Writes the event to the outbox inside ``conn``, a service transaction (``store.as_service()``)
    that also makes the state change: both commit or neither does.

    One delivery per subscribed enabled endpoint, all with one ``webhook_id``; passing the same
    ``webhook_id`` again (a retried job step) adds nothing.
    """
    params = {
        "user_id": user_id,
        "event_type": event_type,
        "payload": Jsonb(dict(payload)),
        "webhook_id": webhook_id,
    }
    return fetch(conn, "webhook_enqueue", params, WebhookDelivery)


def claim_delivery(
    *, store: Store, worker: str, now: datetime, lease_seconds: int = 60
) -> ClaimedDelivery | None:
    """Leases the next delivery due at ``now`` to ``worker`` (attempts + 1), or None."""
    params = {"worker": worker, "now": now, "lease_seconds": lease_seconds}
    with store.as_service() as conn:
        rows = fetch(conn, "webhook_claim", params, ClaimedDelivery)
    return rows[0] if rows else None


def record_attempt(
    *,
    store: Store,
    delivery_id: UUID,
    worker: str,
    now: datetime,
    status_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
    disable_after: int = 5,
) -> WebhookDelivery:
    """Settles the worker's attempt: 2xx delivered; 410 failed and endpoint disabled; otherwise
    retried at ``next_attempt_at``, or failed when it is None. Raises LeaseLost if the lease
    was lost (expired and reclaimed, or the endpoint was disabled meanwhile)."""
    params = {
        "delivery_id": delivery_id,
        "worker": worker,
        "now": now,
        "status_code": status_code,
        "error": error,
        "next_attempt_at": next_attempt_at,
        "disable_after": disable_after,
    }
    with store.as_service() as conn:
        return _one(fetch(conn, "webhook_record_attempt", params, WebhookDelivery), "record")

"""The webhooks repository: endpoints per tenant (under RLS), deliveries written to the outbox in
the caller's transaction, claimed under a lease within per-endpoint and per-tenant caps and
settled attempt by attempt (migrations 0004 and 0013)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.store.database import Connection, Store
from pipeline.store.errors import NotFound
from pipeline.store.models import ClaimedDelivery, WebhookDelivery, WebhookEndpoint
from pipeline.store.queries import fetch, one, values

__all__ = ["WebhookRepository", "Webhooks"]


class WebhookRepository(Protocol):
    """Webhook endpoints, the outbox and delivery attempts."""

    def create_endpoint(
        self, *, user_id: UUID, url: str, secret: str, events: Sequence[str] = ()
    ) -> WebhookEndpoint: ...
    def endpoints(self, *, user_id: UUID) -> list[WebhookEndpoint]: ...
    def delete_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> None: ...
    def rotate_secret(
        self, *, user_id: UUID, endpoint_id: UUID, secret: str, grace_seconds: int = 24 * 3600
    ) -> WebhookEndpoint: ...
    def enable_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint: ...
    def deliveries(
        self, *, user_id: UUID, endpoint_id: UUID | None = None, limit: int = 100
    ) -> list[WebhookDelivery]: ...
    def enqueue(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        event_type: str,
        payload: Mapping[str, Any],
        webhook_id: str | None = None,
    ) -> list[WebhookDelivery]: ...
    def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease_seconds: int = 60,
        limit: int = 1,
        per_endpoint: int = 1,
        per_tenant: int = 4,
    ) -> list[ClaimedDelivery]: ...
    def record_attempt(
        self,
        *,
        delivery_id: UUID,
        worker: str,
        now: datetime,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        disable_after: int = 5,
    ) -> WebhookDelivery: ...
    def quarantine(
        self, *, delivery_id: UUID, worker: str, now: datetime, reason: str
    ) -> WebhookDelivery: ...


class Webhooks:
    """The webhooks repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create_endpoint(
        self, *, user_id: UUID, url: str, secret: str, events: Sequence[str] = ()
    ) -> WebhookEndpoint:
        """Adds an endpoint for the tenant, signing with ``secret`` (a ``whsec_`` secret); no
        events means all events."""
        params = {"url": url, "secret": secret, "events": list(events)}
        with self._store.as_user(user_id) as conn:
            rows = fetch(conn, "webhooks/endpoint_create", params, WebhookEndpoint)
        return one(rows, "webhooks/endpoint_create")

    def endpoints(self, *, user_id: UUID) -> list[WebhookEndpoint]:
        """The tenant's endpoints, oldest first, with whether each is enabled and why not."""
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "webhooks/endpoint_list", {}, WebhookEndpoint)

    def delete_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> None:
        """Deletes the tenant's endpoint and its deliveries; NotFound if it is not theirs."""
        with self._store.as_user(user_id) as conn:
            deleted = values(conn, "webhooks/endpoint_delete", {"endpoint_id": endpoint_id})
        if not deleted:
            raise NotFound("webhook endpoint", f"no endpoint {endpoint_id}")

    def rotate_secret(
        self, *, user_id: UUID, endpoint_id: UUID, secret: str, grace_seconds: int = 24 * 3600
    ) -> WebhookEndpoint:
        """Gives the endpoint the new ``secret``; for ``grace_seconds`` attempts are signed with
        both. NotFound if it is not the tenant's."""
        params = {"endpoint_id": endpoint_id, "secret": secret, "grace_seconds": grace_seconds}
        return self._update_endpoint(user_id, "webhooks/endpoint_rotate_secret", params)

    def enable_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        """Re-enables a disabled endpoint (deliveries that went dead meanwhile stay dead).
        NotFound if it is not the tenant's."""
        params = {"endpoint_id": endpoint_id}
        return self._update_endpoint(user_id, "webhooks/endpoint_enable", params)

    def _update_endpoint(
        self, user_id: UUID, name: str, params: Mapping[str, Any]
    ) -> WebhookEndpoint:
        with self._store.as_user(user_id) as conn:
            rows = fetch(conn, name, params, WebhookEndpoint)
        if not rows:
            raise NotFound("webhook endpoint", f"no endpoint {params['endpoint_id']}")
        return rows[0]

    def deliveries(
        self, *, user_id: UUID, endpoint_id: UUID | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """The tenant's deliveries, newest first (of one endpoint, if given), with attempts and
        the last error."""
        params = {"endpoint_id": endpoint_id, "limit": limit}
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "webhooks/deliveries_list", params, WebhookDelivery)

    def enqueue(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        event_type: str,
        payload: Mapping[str, Any],
        webhook_id: str | None = None,
    ) -> list[WebhookDelivery]:
        """Writes the event to the outbox inside ``conn``, a service transaction that also makes
        the state change: both commit or neither does.

        One delivery per subscribed enabled endpoint, all with one ``webhook_id``; passing the
        same ``webhook_id`` again (a retried job step) adds nothing.
        """
        params = {
            "user_id": user_id,
            "event_type": event_type,
            "payload": Jsonb(dict(payload)),
            "webhook_id": webhook_id,
        }
        return fetch(conn, "webhooks/enqueue", params, WebhookDelivery)

    def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease_seconds: int = 60,
        limit: int = 1,
        per_endpoint: int = 1,
        per_tenant: int = 4,
    ) -> list[ClaimedDelivery]:
        """Leases up to ``limit`` deliveries due at ``now`` to ``worker`` (attempts + 1 each),
        oldest due first, in that order (migration 0013). An endpoint with ``per_endpoint``
        deliveries in flight, or a tenant with ``per_tenant``, gets none: in flight means
        leased by any dispatcher and the lease not yet over."""
        params = {
            "worker": worker,
            "now": now,
            "lease_seconds": lease_seconds,
            "limit": limit,
            "per_endpoint": per_endpoint,
            "per_tenant": per_tenant,
        }
        with self._store.as_service() as conn:
            return fetch(conn, "webhooks/delivery_claim", params, ClaimedDelivery)

    def record_attempt(
        self,
        *,
        delivery_id: UUID,
        worker: str,
        now: datetime,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        disable_after: int = 5,
    ) -> WebhookDelivery:
        """Settles the worker's attempt: 2xx delivered; 410 failed and endpoint disabled;
        otherwise retried at ``next_attempt_at``, or failed when it is None. Raises LeaseLost
        if the lease was lost (expired and reclaimed, or the endpoint disabled meanwhile)."""
        params = {
            "delivery_id": delivery_id,
            "worker": worker,
            "now": now,
            "status_code": status_code,
            "error": error,
            "next_attempt_at": next_attempt_at,
            "disable_after": disable_after,
        }
        with self._store.as_service() as conn:
            rows = fetch(conn, "webhooks/delivery_record_attempt", params, WebhookDelivery)
        return one(rows, "webhooks/delivery_record_attempt")

    def quarantine(
        self, *, delivery_id: UUID, worker: str, now: datetime, reason: str
    ) -> WebhookDelivery:
        """Fails the worker's delivery, which cannot be attempted at all (its endpoint's secret
        or URL is unusable), and disables the endpoint, both with ``reason`` (migration 0010).
        Raises LeaseLost if the worker no longer holds it."""
        params = {"delivery_id": delivery_id, "worker": worker, "now": now, "reason": reason}
        with self._store.as_service() as conn:
            rows = fetch(conn, "webhooks/delivery_quarantine", params, WebhookDelivery)
        return one(rows, "webhooks/delivery_quarantine")

"""The webhooks repository in memory: a user's endpoints, and deliveries claimed under a lease
within per-endpoint and per-tenant caps, attempted, and given up on (migrations 0004, 0013)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import SecretStr

from pipeline.store.errors import LeaseLost, NotFound
from pipeline.store.memory.outbox import enqueue_webhook
from pipeline.store.memory.state import (
    DeliveryRow,
    EndpointRow,
    State,
    argument,
    check,
    foreign_key,
    row_limit,
)
from pipeline.store.models import ClaimedDelivery, DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = ["MemoryWebhooks", "deliverable", "is_webhook_secret"]

DELIVERABLE = "webhook_endpoints_deliverable"
# Migration 0010's is_webhook_secret, is_webhook_url and are_webhook_events.
_SECRET = re.compile(
    r"whsec_(?:[A-Za-z0-9+/]{4})+|whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"
)
_URL = re.compile(
    r"(?:https://[^/?#@\s\x00-\x1f\x7f]+|http://(?:localhost|127\.0\.0\.1)(?::[0-9]{1,5})?)"
    r"(?:[/?#][^\s\x00-\x1f\x7f]*)?",
    re.IGNORECASE,
)
_EVENT = re.compile(r"[a-z0-9][a-z0-9_.\-]*")
_ANY_CASE_URL = re.compile(r"https?://", re.IGNORECASE)


def is_webhook_secret(secret: str) -> bool:
    """``whsec_`` and padded base64 of 24 to 64 bytes."""
    if not _SECRET.fullmatch(secret):
        return False
    encoded = secret.removeprefix("whsec_")
    return 24 <= len(encoded) // 4 * 3 - (len(encoded) - len(encoded.rstrip("="))) <= 64


def deliverable(url: str, secret: str, previous: str | None, events: Sequence[str]) -> bool:
    """The check an enabled endpoint passes (``webhook_endpoints_deliverable``)."""
    return (
        is_webhook_secret(secret)
        and (previous is None or is_webhook_secret(previous))
        and len(url) <= 2048
        and _URL.fullmatch(url) is not None
        and len(events) <= 50
        and all(len(e) <= 100 and _EVENT.fullmatch(e) for e in events)
    )


class MemoryWebhooks:
    """The webhooks repository in memory (migration 0004); a user sees only their own
    endpoints and deliveries."""

    def __init__(self, st: State) -> None:
        self._st = st

    def create_endpoint(
        self, *, user_id: UUID, url: str, secret: str, events: Sequence[str] = ()
    ) -> WebhookEndpoint:
        """An endpoint of the user; no events means all events."""
        table = "webhook_endpoints"
        with self._st.lock:
            check(_ANY_CASE_URL.match(url) is not None, table, "webhook_endpoints_url_check")
            check(len(secret) >= 24, table, "webhook_endpoints_secret_check")
            check(deliverable(url, secret, None, events), table, DELIVERABLE)
            foreign_key(user_id in self._st.users, table, "webhook_endpoints_user_id_fkey")
            now = self._st.now()
            endpoint = WebhookEndpoint(
                id=uuid.uuid4(),
                user_id=user_id,
                url=url,
                secret=SecretStr(secret),
                events=list(events),
                enabled=True,
                disabled_reason=None,
                disabled_at=None,
                failed_deliveries_in_row=0,
                previous_secret_expires_at=None,
                created_at=now,
                updated_at=now,
            )
            self._st.endpoints[endpoint.id] = EndpointRow(endpoint)
            return endpoint.model_copy(deep=True)

    def endpoints(self, *, user_id: UUID) -> list[WebhookEndpoint]:
        """The user's endpoints, oldest first."""
        with self._st.lock:
            mine = [e.row for e in self._st.endpoints.values() if e.row.user_id == user_id]
        mine.sort(key=lambda e: (e.created_at, e.id))
        return [e.model_copy(deep=True) for e in mine]

    def _own(self, user_id: UUID, endpoint_id: UUID) -> EndpointRow:
        found = self._st.endpoints.get(endpoint_id)
        if found is None or found.row.user_id != user_id:
            raise NotFound("webhook endpoint", f"no endpoint {endpoint_id}")
        return found

    def delete_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> None:
        """Deletes the user's endpoint and its deliveries; NotFound if it is not theirs."""
        with self._st.lock:
            self._own(user_id, endpoint_id)
            del self._st.endpoints[endpoint_id]
            self._st.deliveries = {
                k: d for k, d in self._st.deliveries.items() if d.row.endpoint_id != endpoint_id
            }

    def rotate_secret(
        self, *, user_id: UUID, endpoint_id: UUID, secret: str, grace_seconds: int = 24 * 3600
    ) -> WebhookEndpoint:
        """The new secret; the old one also signs for ``grace_seconds``."""
        with self._st.lock:
            endpoint = self._own(user_id, endpoint_id)
            check(len(secret) >= 24, "webhook_endpoints", "webhook_endpoints_secret_check")
            now = self._st.now()
            old = endpoint.row.secret.get_secret_value()
            previous = old if is_webhook_secret(old) else None  # a bad one never signs again
            row = endpoint.row
            check(
                not row.enabled or deliverable(row.url, secret, previous, row.events),
                "webhook_endpoints",
                DELIVERABLE,
            )
            endpoint.previous_secret = previous
            endpoint.row = row.model_copy(
                update={
                    "secret": SecretStr(secret),
                    "previous_secret_expires_at": (
                        now + timedelta(seconds=grace_seconds) if previous else None
                    ),
                    "updated_at": now,
                }
            )
            return endpoint.row.model_copy(deep=True)

    def enable_endpoint(self, *, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        """Re-enables the user's endpoint, clearing its failures (dead deliveries stay dead)."""
        with self._st.lock:
            endpoint = self._own(user_id, endpoint_id)
            row = endpoint.row
            ok = deliverable(
                row.url, row.secret.get_secret_value(), endpoint.previous_secret, row.events
            )
            check(ok, "webhook_endpoints", DELIVERABLE)
            endpoint.row = endpoint.row.model_copy(
                update={
                    "enabled": True,
                    "disabled_reason": None,
                    "disabled_at": None,
                    "failed_deliveries_in_row": 0,
                    "updated_at": self._st.now(),
                }
            )
            return endpoint.row.model_copy(deep=True)

    def deliveries(
        self, *, user_id: UUID, endpoint_id: UUID | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """The user's deliveries, newest first (then by id), of one endpoint if given."""
        with self._st.lock:
            mine = [
                d.row
                for d in self._st.deliveries.values()
                if d.row.user_id == user_id and endpoint_id in (None, d.row.endpoint_id)
            ]
        mine.sort(key=lambda d: d.id)
        mine.sort(key=lambda d: d.created_at, reverse=True)
        return [d.model_copy(deep=True) for d in mine[: row_limit(limit)]]

    def enqueue(
        self,
        conn: object,
        *,
        user_id: UUID,
        event_type: str,
        payload: Mapping[str, Any],
        webhook_id: str | None = None,
    ) -> list[WebhookDelivery]:
        """One delivery per subscribed enabled endpoint (``conn`` is ignored: written at once)."""
        with self._st.lock:
            return enqueue_webhook(
                self._st, user_id, event_type, payload, webhook_id, self._st.now()
            )

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
        """``claim_webhook_deliveries``: up to ``limit`` deliveries due at ``now`` of enabled
        endpoints, oldest due first, leased (attempts + 1, not due again until the lease
        ends), none for an endpoint or tenant whose leased deliveries reach its cap."""
        where = "claim_webhook_deliveries"
        argument(1 <= len(worker) <= 200, where, "worker name must be 1 to 200 characters")
        ok = 1 <= lease_seconds <= 3600
        argument(ok, where, "lease must be between 1 and 3600 seconds")
        ok = 1 <= limit <= 1000 and 1 <= per_endpoint <= per_tenant <= 1000
        argument(ok, where, "need 1 <= limit <= 1000 and 1 <= per endpoint <= per tenant <= 1000")
        with self._st.lock:
            endpoints, tenants = Counter[UUID](), Counter[UUID]()  # leases running at now
            for d in self._st.deliveries.values():
                pending = d.row.status == DeliveryStatus.PENDING
                if pending and d.lease_owner is not None and d.row.next_attempt_at > now:
                    endpoints[d.row.endpoint_id] += 1
                    tenants[d.row.user_id] += 1
            due = sorted(
                (
                    d
                    for d in self._st.deliveries.values()
                    if d.row.status == DeliveryStatus.PENDING
                    and d.row.next_attempt_at <= now
                    and self._st.endpoints[d.row.endpoint_id].row.enabled
                ),
                key=lambda d: (d.row.next_attempt_at, d.row.created_at),
            )
            claimed: list[ClaimedDelivery] = []
            for chosen in due:
                row = chosen.row
                if endpoints[row.endpoint_id] >= per_endpoint or tenants[row.user_id] >= per_tenant:
                    continue
                endpoints[row.endpoint_id] += 1
                tenants[row.user_id] += 1
                chosen.lease_owner = worker
                chosen.row = row.model_copy(
                    update={
                        "attempts": row.attempts + 1,
                        "next_attempt_at": now + timedelta(seconds=lease_seconds),
                    }
                )
                claimed.append(self._claimed(chosen, now))
                if len(claimed) == limit:
                    break
            return claimed

    def _claimed(self, delivery: DeliveryRow, now: datetime) -> ClaimedDelivery:
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        expires = endpoint.row.previous_secret_expires_at
        previous = endpoint.previous_secret if expires is not None and expires > now else None
        return ClaimedDelivery(
            **delivery.row.model_copy(deep=True).model_dump(),
            url=endpoint.row.url,
            secret=endpoint.row.secret,
            previous_secret=None if previous is None else SecretStr(previous),
        )

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
        """``record_webhook_attempt``: 2xx delivered; 410 failed and the endpoint disabled;
        else pending again at ``next_attempt_at`` or failed when it is None."""
        where = "record_webhook_attempt"
        argument(disable_after >= 1, where, "disable_after must be at least 1")
        with self._st.lock:
            delivery = self._held(delivery_id, worker)
            if status_code is not None and 200 <= status_code <= 299:
                return self._delivered(delivery, status_code, now)
            argument(bool(error), where, "a failed attempt needs an error")
            assert error is not None
            if status_code == 410 or next_attempt_at is None:
                return self._failed(delivery, status_code, error, now, disable_after)
            delivery.lease_owner = None
            delivery.row = delivery.row.model_copy(
                update={
                    "next_attempt_at": next_attempt_at,
                    "last_status_code": status_code,
                    "last_error": error[:1000],
                }
            )
            return delivery.row.model_copy(deep=True)

    def quarantine(
        self, *, delivery_id: UUID, worker: str, now: datetime, reason: str
    ) -> WebhookDelivery:
        """``quarantine_webhook_delivery``: the delivery fails and its endpoint is disabled."""
        argument(bool(reason), "quarantine_webhook_delivery", "a quarantine needs a reason")
        with self._st.lock:
            delivery = self._held(delivery_id, worker, "quarantine_webhook_delivery")
            delivery.lease_owner = None
            delivery.row = delivery.row.model_copy(
                update={
                    "status": DeliveryStatus.FAILED,
                    "last_status_code": None,
                    "last_error": reason[:1000],
                }
            )
            self._disable(self._st.endpoints[delivery.row.endpoint_id], reason[:500], now)
            return delivery.row.model_copy(deep=True)

    def _held(
        self, delivery_id: UUID, worker: str, where: str = "record_webhook_attempt"
    ) -> DeliveryRow:
        delivery = self._st.deliveries.get(delivery_id)
        if delivery is None:
            raise NotFound(where, f"unknown webhook delivery {delivery_id}", sqlstate="RF006")
        if delivery.row.status != DeliveryStatus.PENDING or delivery.lease_owner != worker:
            raise LeaseLost(
                f"{where}: worker {worker} does not hold webhook delivery {delivery_id} "
                f"(status {delivery.row.status}, owner {delivery.lease_owner or 'none'})",
                sqlstate="RF007",
            )
        return delivery

    def _delivered(self, delivery: DeliveryRow, status_code: int, now: datetime) -> WebhookDelivery:
        delivery.lease_owner = None
        delivery.row = delivery.row.model_copy(
            update={
                "status": DeliveryStatus.DELIVERED,
                "delivered_at": now,
                "last_status_code": status_code,
                "last_error": None,
            }
        )
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        if endpoint.row.failed_deliveries_in_row != 0:
            endpoint.row = endpoint.row.model_copy(
                update={"failed_deliveries_in_row": 0, "updated_at": now}
            )
        return delivery.row.model_copy(deep=True)

    def _failed(
        self,
        delivery: DeliveryRow,
        status_code: int | None,
        error: str,
        now: datetime,
        disable_after: int,
    ) -> WebhookDelivery:
        delivery.lease_owner = None
        delivery.row = delivery.row.model_copy(
            update={
                "status": DeliveryStatus.FAILED,
                "last_status_code": status_code,
                "last_error": error[:1000],
            }
        )
        failed = delivery.row.model_copy(deep=True)
        endpoint = self._st.endpoints[delivery.row.endpoint_id]
        if status_code == 410:
            self._disable(endpoint, "the endpoint answered 410 Gone", now)
            return failed
        in_row = endpoint.row.failed_deliveries_in_row + 1
        endpoint.row = endpoint.row.model_copy(
            update={"failed_deliveries_in_row": in_row, "updated_at": now}
        )
        if endpoint.row.enabled and in_row >= disable_after:
            reason = (
                f"{in_row} deliveries in a row failed after {failed.attempts} attempts each; "
                f"last error: {error[:200]}"
            )
            self._disable(endpoint, reason, now)
        return failed

    def _disable(self, endpoint: EndpointRow, reason: str, now: datetime) -> None:
        """``disable_webhook_endpoint``: its pending deliveries go dead."""
        endpoint.row = endpoint.row.model_copy(
            update={
                "enabled": False,
                "disabled_reason": reason,
                "disabled_at": now,
                "updated_at": now,
            }
        )
        for delivery in self._st.deliveries.values():
            pending = delivery.row.status == DeliveryStatus.PENDING
            if pending and delivery.row.endpoint_id == endpoint.row.id:
                delivery.lease_owner = None
                delivery.row = delivery.row.model_copy(
                    update={
                        "status": DeliveryStatus.DEAD,
                        "last_error": f"endpoint disabled: {reason}",
                    }
                )

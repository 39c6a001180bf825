"""Frozen models for webhook rows: endpoints, deliveries and a claimed delivery with its target."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = ["ClaimedDelivery", "DeliveryStatus", "WebhookDelivery", "WebhookEndpoint"]


class DeliveryStatus(StrEnum):
    """A delivery's status: pending (due or waiting to retry), delivered, failed, or dead
    (its endpoint was disabled before it got through)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class WebhookEndpoint(_Row):
    """A tenant's endpoint; ``enabled`` is false with a reason and time once it is disabled."""

    id: UUID
    user_id: UUID
    url: str
    secret: SecretStr
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failed_deliveries_in_row: int
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookDelivery(_Row):
    """One event for one endpoint; ``webhook_id`` is sent on every attempt."""

    id: UUID
    webhook_id: str
    user_id: UUID
    endpoint_id: UUID
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ClaimedDelivery(WebhookDelivery):
    """A delivery leased to a dispatcher, with where to send it and the secrets to sign with."""

    url: str
    secret: SecretStr
    previous_secret: SecretStr | None

    @property
    def signing_secrets(self) -> list[str]:
        """The current secret, then the previous one while its rotation grace period lasts."""
        found = [self.secret, self.previous_secret]
        return [s.get_secret_value() for s in found if s is not None]

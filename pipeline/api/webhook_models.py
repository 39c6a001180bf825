"""Request and response bodies of the webhook endpoint and provider callback routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from pipeline.store.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = [
    "DeliveryList",
    "DeliveryOut",
    "EndpointCreated",
    "EndpointDeleted",
    "EndpointIn",
    "EndpointList",
    "EndpointOut",
    "ProviderCallbackOut",
]

EventName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.\-]*$"),
]
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class EndpointIn(BaseModel):
    """A new endpoint: where to POST events, and which events (none means all)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://example.com/hooks/reelforge", "events": ["job.delivered"]}
            ]
        },
    )

    url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*://",
        description="an https URL (http://localhost and http://127.0.0.1 only in development)",
    )
    events: list[EventName] = Field(
        default_factory=list,
        max_length=50,
        description="event types to receive, e.g. job.delivered; empty for every event",
    )

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, value: str) -> str:
        if not _SCHEME.match(value):
            raise ValueError("must be an absolute URL such as https://example.com/hooks")
        return value

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class EndpointOut(BaseModel):
    """An endpoint as its owner sees it; the secret is never shown again after creation."""

    id: UUID
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(
        description="why deliveries stopped (410, repeated failures)"
    )
    disabled_at: datetime | None
    failed_deliveries_in_row: int
    previous_secret_expires_at: datetime | None = Field(
        description="after a rotation, until when the previous secret still signs deliveries"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointOut:
        return cls.model_validate(endpoint.model_dump(exclude={"secret", "user_id"}))


class EndpointCreated(EndpointOut):
    """An endpoint with its signing secret: returned once, by create and rotate; store it now."""

    secret: str = Field(description="whsec_ secret to verify the webhook-signature header with")

    @classmethod
    def with_secret(cls, endpoint: WebhookEndpoint) -> EndpointCreated:
        data: dict[str, Any] = endpoint.model_dump(exclude={"secret", "user_id"})
        return cls.model_validate(data | {"secret": endpoint.secret.get_secret_value()})


class EndpointDeleted(BaseModel):
    """A deleted endpoint."""

    id: UUID
    deleted: bool = True


class EndpointList(BaseModel):
    """The caller's endpoints."""

    endpoints: list[EndpointOut]


class DeliveryOut(BaseModel):
    """One event sent (or being retried) to one endpoint."""

    id: UUID
    webhook_id: str = Field(description="the webhook-id header, the same on every attempt")
    endpoint_id: UUID
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="when it is tried next, while pending")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        data = delivery.model_dump(exclude={"user_id"})
        if delivery.status != DeliveryStatus.PENDING:
            data["next_attempt_at"] = None
        return cls.model_validate(data)


class DeliveryList(BaseModel):
    """An endpoint's recent deliveries, newest first."""

    deliveries: list[DeliveryOut]


class ProviderCallbackOut(BaseModel):
    """The outcome of a provider callback: recorded, or a duplicate that changed nothing."""

    event_id: str = Field(description="the webhook-id header")
    duplicate: bool = Field(description="true if this event id was already received")
    job_event_id: int | None = Field(
        default=None, description="the job event appended for the payload's job_id, if any"
    )

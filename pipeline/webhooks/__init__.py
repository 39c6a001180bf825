"""Webhooks: signed outbound deliveries through the outbox (``pipeline.store.webhooks``) and
verified inbound events."""

from __future__ import annotations

from pipeline.store.models import ClaimedDelivery, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from pipeline.webhooks.clock import Clock, FakeClock, SystemClock
from pipeline.webhooks.dispatcher import (
    BAD_SECRET,
    TIMEOUT_SECONDS,
    Attempt,
    Dispatcher,
    Undeliverable,
)
from pipeline.webhooks.inbound import TOLERANCE_SECONDS, WebhookRejected, verify_inbound
from pipeline.webhooks.retry import DEFAULT_SCHEDULE, RetryPolicy
from pipeline.webhooks.signing import (
    SECRET_PREFIX,
    InvalidSecret,
    generate_secret,
    secret_key,
    sign,
    webhook_headers,
)

__all__ = [
    "BAD_SECRET",
    "DEFAULT_SCHEDULE",
    "SECRET_PREFIX",
    "TIMEOUT_SECONDS",
    "TOLERANCE_SECONDS",
    "Attempt",
    "ClaimedDelivery",
    "Clock",
    "DeliveryStatus",
    "Dispatcher",
    "FakeClock",
    "InvalidSecret",
    "RetryPolicy",
    "SystemClock",
    "Undeliverable",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRejected",
    "generate_secret",
    "secret_key",
    "sign",
    "verify_inbound",
    "webhook_headers",
]

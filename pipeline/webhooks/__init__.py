"""Webhooks: signed outbound deliveries through an outbox, and verified, deduplicated inbound events."""

from __future__ import annotations

from pipeline.webhooks.clock import Clock, FakeClock, SystemClock
from pipeline.webhooks.dispatcher import TIMEOUT_SECONDS, Attempt, Dispatcher
from pipeline.webhooks.inbound import (
    TOLERANCE_SECONDS,
    WebhookRejected,
    mark_provider_event_processed,
    newer_provider_event_exists,
    record_provider_event,
    verify_inbound,
)
from pipeline.webhooks.models import (
    ClaimedDelivery,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from pipeline.webhooks.outbox import (
    claim_delivery,
    create_endpoint,
    delete_endpoint,
    enable_endpoint,
    enqueue_webhook,
    list_deliveries,
    list_endpoints,
    record_attempt,
    rotate_secret,
)
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
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRejected",
    "claim_delivery",
    "create_endpoint",
    "delete_endpoint",
    "enable_endpoint",
    "enqueue_webhook",
    "generate_secret",
    "list_deliveries",
    "list_endpoints",
    "mark_provider_event_processed",
    "newer_provider_event_exists",
    "record_attempt",
    "record_provider_event",
    "rotate_secret",
    "secret_key",
    "sign",
    "verify_inbound",
    "webhook_headers",
]

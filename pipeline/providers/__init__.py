"""The shared machinery of provider adapters: an HTTP client with retries, breakers, errors."""

from __future__ import annotations

from pipeline.providers.breaker import BreakerState, CircuitBreaker, breaker_for
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.http import (
    DEFAULT_TIMEOUT,
    AsyncProviderClient,
    ProviderClient,
    RetryPolicy,
    retry_after_seconds,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncProviderClient",
    "BreakerState",
    "CircuitBreaker",
    "ProviderClient",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "RetryPolicy",
    "breaker_for",
    "retry_after_seconds",
]

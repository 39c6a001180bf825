"""Errors raised when an external AI provider fails, all under StageError.

StageError
 └── ProviderError            a provider call failed (malformed JSON, an unusable reply)
      ├── ProviderUnavailable  circuit open, or 5xx / network errors after every retry
      ├── ProviderRejected     a 4xx other than 429 (or a 429/5xx the provider marks as final,
      │                        e.g. Kling's exhausted resource pack): never retried
      └── ProviderRateLimited  429 after every retry
"""

from __future__ import annotations

from pipeline.errors import StageError

__all__ = ["ProviderError", "ProviderRateLimited", "ProviderRejected", "ProviderUnavailable"]


class ProviderError(StageError):
    """An AI provider call failed."""

    def __init__(
        self,
        provider: str,
        detail: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.provider_message = provider_message
        # Seconds the provider (or the breaker) says to wait before calling again, when known.
        self.retry_after = retry_after
        super().__init__("provider", f"{provider}: {detail}")


class ProviderUnavailable(ProviderError):
    """The AI provider is unavailable."""


class ProviderRejected(ProviderError):
    """The AI provider rejected the request."""


class ProviderRateLimited(ProviderError):
    """The AI provider kept rate-limiting the request."""

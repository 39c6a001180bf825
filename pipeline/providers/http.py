"""The HTTP client every provider adapter uses: timeouts, retries with backoff, a circuit breaker."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

__all__ = ["DEFAULT_TIMEOUT", "ProviderClient", "RetryPolicy", "retry_after_seconds"]

_log = logging.getLogger(__name__)

# Generation calls can take a while to answer, but a provider that will not accept a connection
# within 10 s is down.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

_MAX_MESSAGE = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call that failed with 429, 5xx or a network error.

    The delay before retry ``n`` (1-based) is ``base_delay * 2 ** (n - 1)``, moved up or down by a
    random fraction of at most ``jitter`` and capped at ``max_delay``. A ``Retry-After`` header
    replaces that delay, also capped at ``max_delay``.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ValueError("delays must satisfy 0 <= base_delay <= max_delay")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must satisfy 0 <= jitter < 1")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        base = self.base_delay * 2.0 ** max(retry - 1, 0)
        return min(base * rng.uniform(1 - self.jitter, 1 + self.jitter), self.max_delay)


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """A ``Retry-After`` header (delay-seconds or an HTTP-date) as seconds from ``now``; None if
    absent or unreadable. Dates in the past give 0."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ProviderClient:
    """Calls one provider through ``client`` with a timeout on every call, retries and a breaker.

    - Timeout: a call's own ``timeout=`` wins, else the client's; any phase (connect, read,
      write, pool) left unbounded takes its value from ``DEFAULT_TIMEOUT``, so no call can hang.
    - Retries: 429, 500-599, ``httpx.TransportError`` (timeouts, connect errors) are retried per
      ``policy``, honouring ``Retry-After``. Other 4xx raise ``ProviderRejected`` at once.
      Request bodies must be replayable (bytes, str, ``json=``, ``data=``), not generators.
    - Breaker: checked once per call (open → ``ProviderUnavailable`` without a request); a call
      counts as one failure only when its retries are exhausted. A 4xx is a success for the
      breaker: the provider is up and answering.

    ``sleep``, ``rng`` and ``now`` are injectable so tests neither sleep nor depend on chance.
    """

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        *,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.name = name
        self.client = client
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or breaker_for(name)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now

    def request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        """Send the request, retrying as the policy allows; a 2xx or 3xx response or an error."""
        target = _describe(method, url)
        if not self.breaker.allow():
            wait = self.breaker.retry_in()
            raise ProviderUnavailable(
                self.name,
                f"{target} not sent: circuit open after repeated failures, next try in {wait:.0f}s",
                retry_after=wait,
            )
        kwargs["timeout"] = _bounded(kwargs.get("timeout", self.client.timeout))
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt >= self.policy.max_attempts:
                    self.breaker.record_failure()
                    raise ProviderUnavailable(
                        self.name, f"{target} failed after {attempt} attempts: {what}"
                    ) from exc
                self._wait(attempt, None, f"{target} failed: {what}")
                continue
            except httpx.HTTPError as exc:  # too many redirects, undecodable body: not transient
                self.breaker.record_failure()
                raise ProviderError(self.name, f"{target} failed: {exc}") from exc

            status = response.status_code
            if status < 400:
                self.breaker.record_success()
                return response
            message = _provider_message(response)
            said = f": {message}" if message else ""
            retry_after = retry_after_seconds(response.headers.get("Retry-After"), now=self._now())
            if status == 429 or 500 <= status <= 599:
                if attempt >= self.policy.max_attempts:
                    self.breaker.record_failure()
                    error = ProviderRateLimited if status == 429 else ProviderUnavailable
                    raise error(
                        self.name,
                        f"{target} returned HTTP {status} after {attempt} attempts{said}",
                        status=status,
                        provider_message=message,
                        retry_after=retry_after,
                    )
                self._wait(attempt, retry_after, f"{target} returned HTTP {status}{said}")
                continue
            self.breaker.record_success()
            raise ProviderRejected(
                self.name,
                f"{target} was rejected with HTTP {status}{said}",
                status=status,
                provider_message=message,
            )

    def json(self, method: str, url: str | httpx.URL, **kwargs: Any) -> Any:
        """``request`` and decode the body as JSON; ``ProviderError`` if it is not JSON."""
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderError(
                self.name,
                f"{_describe(method, url)} returned malformed JSON (HTTP {response.status_code}): {exc}",
                status=response.status_code,
            ) from exc

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        if retry_after is None:
            delay = self.policy.backoff(attempt, self._rng)
        else:
            delay = min(retry_after, self.policy.max_delay)
        _log.warning(
            "%s: %s; retry %d/%d in %.1fs",
            self.name,
            why,
            attempt,
            self.policy.max_attempts - 1,
            delay,
        )
        self._sleep(delay)


def _bounded(timeout: Any) -> httpx.Timeout:
    """``timeout`` with every unbounded phase filled in from DEFAULT_TIMEOUT."""
    given = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    return httpx.Timeout(
        connect=DEFAULT_TIMEOUT.connect if given.connect is None else given.connect,
        read=DEFAULT_TIMEOUT.read if given.read is None else given.read,
        write=DEFAULT_TIMEOUT.write if given.write is None else given.write,
        pool=DEFAULT_TIMEOUT.pool if given.pool is None else given.pool,
    )


def _describe(method: str, url: str | httpx.URL) -> str:
    """``METHOD scheme://host/path`` without the query, which may carry an API key."""
    parsed = httpx.URL(url)
    where = f"{parsed.scheme}://{parsed.host}{parsed.path}" if parsed.host else parsed.path
    return f"{method.upper()} {where}"


def _provider_message(response: httpx.Response) -> str | None:
    """The provider's own error message: from the common JSON error shapes, else the text body."""
    try:
        body: Any = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:_MAX_MESSAGE] or None
    message = _find_message(body)
    return message[:_MAX_MESSAGE] if message else None


def _find_message(body: Any) -> str | None:
    # Covers {"error": {"message": …}} (OpenAI-style), {"error": "…"}, {"message": "…"},
    # {"detail": "…" | {"message": …} | [{"msg": …}]} (FastAPI) and {"errors": [{"message": …}]}.
    if isinstance(body, str):
        return body.strip() or None
    if isinstance(body, list):
        return _find_message(body[0]) if body else None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errors", "msg", "error_description"):
            if key in body:
                found = _find_message(body[key])
                if found:
                    return found
    return None

"""The HTTP client every provider adapter uses: timeouts, retries with backoff, a circuit breaker."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncProviderClient",
    "ProviderClient",
    "RetryPolicy",
    "Retryable",
    "retry_after_seconds",
]

_log = logging.getLogger(__name__)

# Generation calls can take a while to answer, but a provider that will not accept a connection
# within 10 s is down.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

_MAX_MESSAGE = 300

# Whether a 429 or 5xx answer is worth retrying; False makes it a ProviderRejected at once.
Retryable = Callable[[httpx.Response], bool]

# Failures that prove the provider never received the request: the connection was not made, or
# no pooled connection came free. Safe to retry even for a request that must not arrive twice.
_NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
_NOT_RETRIED = "the provider may have accepted it, so it was not retried (to avoid paying twice)"


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
    - ``retryable``: consulted for a 429 or 5xx answer; False means the provider has said it
      will not change its mind (an account out of credit behind a 429), so the call raises
      ``ProviderRejected`` at once with the provider's message.
    - ``once=True`` on a call (a paid submission): only failures that prove the provider never
      received the request are retried (a connection not made, no pooled connection free, a 429
      refusal). A read or write timeout, a dropped connection or a 5xx may come after the
      provider accepted it, so they raise ``ProviderUnavailable`` at once rather than risk
      creating, and paying for, a second task.

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
        retryable: Retryable | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or breaker_for(name)
        self.retryable = retryable
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now

    def request(
        self, method: str, url: str | httpx.URL, *, once: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send the request, retrying as the policy allows; a 2xx or 3xx response or an error.

        ``once``: a request the provider must not receive twice (see the class docstring)."""
        calls = _Attempts(self, method, url, kwargs, self.client.timeout, once=once)
        while True:
            try:
                response = self.client.request(method, url, **calls.kwargs)
            except httpx.HTTPError as exc:
                self._sleep(calls.failed(exc))
                continue
            delay = calls.answered(response)
            if delay is None:
                return response
            self._sleep(delay)

    def json(self, method: str, url: str | httpx.URL, *, once: bool = False, **kwargs: Any) -> Any:
        """``request`` and decode the body as JSON; ``ProviderError`` if it is not JSON."""
        return _decode(self.name, method, url, self.request(method, url, once=once, **kwargs))


class AsyncProviderClient:
    """:class:`ProviderClient` for ``httpx.AsyncClient``: the same timeouts, retries and breaker.

    ``sleep`` is an async callable (``asyncio.sleep`` by default) so tests need not wait.
    """

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        *,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = _utcnow,
        retryable: Retryable | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or breaker_for(name)
        self.retryable = retryable
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now

    async def request(
        self, method: str, url: str | httpx.URL, *, once: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send the request, retrying as the policy allows; a 2xx or 3xx response or an error.

        ``once``: a request the provider must not receive twice (see :class:`ProviderClient`)."""
        calls = _Attempts(self, method, url, kwargs, self.client.timeout, once=once)
        while True:
            try:
                response = await self.client.request(method, url, **calls.kwargs)
            except httpx.HTTPError as exc:
                await self._sleep(calls.failed(exc))
                continue
            delay = calls.answered(response)
            if delay is None:
                return response
            await self._sleep(delay)

    async def json(
        self, method: str, url: str | httpx.URL, *, once: bool = False, **kwargs: Any
    ) -> Any:
        """``request`` and decode the body as JSON; ``ProviderError`` if it is not JSON."""
        response = await self.request(method, url, once=once, **kwargs)
        return _decode(self.name, method, url, response)


class _Caller(Protocol):
    name: str
    policy: RetryPolicy
    breaker: CircuitBreaker
    retryable: Retryable | None
    _rng: random.Random
    _now: Callable[[], datetime]


class _Attempts:
    """The retry decisions of one call, shared by the sync and async clients: checks the breaker
    up front, then says after each attempt whether to return, wait and retry, or raise."""

    def __init__(
        self,
        caller: _Caller,
        method: str,
        url: str | httpx.URL,
        kwargs: dict[str, Any],
        default: Any,
        *,
        once: bool = False,
    ) -> None:
        self.caller = caller
        self.target = _describe(method, url)
        self.attempt = 1
        self.once = once
        if not caller.breaker.allow():
            wait = caller.breaker.retry_in()
            raise ProviderUnavailable(
                caller.name,
                f"{self.target} not sent: circuit open after repeated failures, next try in {wait:.0f}s",
                retry_after=wait,
            )
        self.kwargs = {**kwargs, "timeout": _bounded(kwargs.get("timeout", default))}

    def failed(self, exc: httpx.HTTPError) -> float:
        """A network error: the delay before the next attempt, or raise when out of attempts."""
        c = self.caller
        if not isinstance(exc, httpx.TransportError):
            # too many redirects, an undecodable body: not transient
            c.breaker.record_failure()
            raise ProviderError(c.name, f"{self.target} failed: {exc}") from exc
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self.once and not isinstance(exc, _NOT_SENT):
            c.breaker.record_failure()
            raise ProviderUnavailable(
                c.name, f"{self.target} failed: {what}; {_NOT_RETRIED}"
            ) from exc
        if self.attempt >= c.policy.max_attempts:
            c.breaker.record_failure()
            raise ProviderUnavailable(
                c.name, f"{self.target} failed after {self.attempt} attempts: {what}"
            ) from exc
        return self._next(None, f"{self.target} failed: {what}")

    def answered(self, response: httpx.Response) -> float | None:
        """None to return ``response``; else the delay before the next attempt; or raise."""
        c = self.caller
        status = response.status_code
        if status < 400:
            c.breaker.record_success()
            return None
        message = _provider_message(response)
        said = f": {message}" if message else ""
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), now=c._now())
        if (status == 429 or 500 <= status <= 599) and (
            c.retryable is None or c.retryable(response)
        ):
            if self.once and status != 429:
                c.breaker.record_failure()
                raise ProviderUnavailable(
                    c.name,
                    f"{self.target} returned HTTP {status}{said}; {_NOT_RETRIED}",
                    status=status,
                    provider_message=message,
                    retry_after=retry_after,
                )
            if self.attempt >= c.policy.max_attempts:
                c.breaker.record_failure()
                error = ProviderRateLimited if status == 429 else ProviderUnavailable
                raise error(
                    c.name,
                    f"{self.target} returned HTTP {status} after {self.attempt} attempts{said}",
                    status=status,
                    provider_message=message,
                    retry_after=retry_after,
                )
            return self._next(retry_after, f"{self.target} returned HTTP {status}{said}")
        # A 4xx, or a 429/5xx the provider says a retry will not change: it is up and answering.
        c.breaker.record_success()
        raise ProviderRejected(
            c.name,
            f"{self.target} was rejected with HTTP {status}{said}",
            status=status,
            provider_message=message,
        ) from httpx.HTTPStatusError(f"HTTP {status}", request=response.request, response=response)

    def _next(self, retry_after: float | None, why: str) -> float:
        c = self.caller
        if retry_after is None:
            delay = c.policy.backoff(self.attempt, c._rng)
        else:
            delay = min(retry_after, c.policy.max_delay)
        _log.warning(
            "%s: %s; retry %d/%d in %.1fs",
            c.name,
            why,
            self.attempt,
            c.policy.max_attempts - 1,
            delay,
        )
        self.attempt += 1
        return delay


def _decode(name: str, method: str, url: str | httpx.URL, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(
            name,
            f"{_describe(method, url)} returned malformed JSON (HTTP {response.status_code}): {exc}",
            status=response.status_code,
        ) from exc


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

"""An adapter's retrying HTTP client, made once per event loop, and the sleep its retries and
polls wait with."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import httpx

from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.http import DEFAULT_TIMEOUT, AsyncProviderClient, Retryable, RetryPolicy

__all__ = ["Connections", "Sleep", "provider_session"]

Sleep = Callable[[float], Awaitable[None]]


class Connections:
    """The retrying client of one adapter, per event loop.

    The synchronous ports run each batch in a fresh event loop (``run_sync``), and an
    ``httpx.AsyncClient`` must not carry pooled connections from one loop into the next; so an
    adapter that owns its client makes one per loop (with :data:`DEFAULT_TIMEOUT`, not httpx's
    5 s) and has the loop close it when it shuts down (:func:`_close_at_loop_end`). A client
    handed in (tests, a caller that manages its own) is always used as is and never closed here.
    """

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient | None,
        *,
        policy: RetryPolicy | None,
        breaker: CircuitBreaker | None,
        sleep: Sleep,
        retryable: Retryable | None = None,
    ) -> None:
        self.name = name
        self.policy = policy
        self.breaker = breaker or breaker_for(name)
        self.sleep = sleep
        self.retryable = retryable
        self._given = client
        # Per loop: its client, and the generator that closes that client when the loop shuts
        # down (held here: the loop itself keeps only a weak reference to it). Entries of loops
        # that have closed are dropped at the next get(), so at most those linger.
        self._per_loop: dict[
            asyncio.AbstractEventLoop, tuple[AsyncProviderClient, AsyncGenerator[None, None] | None]
        ] = {}
        self._lock = threading.Lock()  # ports may run loops in several threads at once

    def get(self) -> AsyncProviderClient:
        """The client for the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for gone in [other for other in self._per_loop if other.is_closed()]:
                del self._per_loop[gone]
            known = self._per_loop.get(loop)
            if known is not None and not known[0].client.is_closed:
                return known[0]
            closer = None
            if self._given is not None:
                client = self._given
            else:
                client = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
                closer = _close_at_loop_end(client)
            wrapped = AsyncProviderClient(
                self.name,
                client,
                policy=self.policy,
                breaker=self.breaker,
                sleep=self.sleep,
                retryable=self.retryable,
            )
            self._per_loop[loop] = (wrapped, closer)
            return wrapped


def _close_at_loop_end(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Has the running loop close ``client`` when it shuts down; the generator doing it, which
    the caller must keep referenced for as long as the client is in use.

    asyncio's one hook for a loop's end is ``loop.shutdown_asyncgens()`` (``asyncio.run`` calls
    it after the main coroutine and before closing the loop): it closes every async generator
    started in that loop and not yet finished. So a generator is started here, driven to its
    ``yield`` synchronously (it awaits nothing before), and waits there; at shutdown its
    ``finally`` closes the client while the loop still runs, the only time the pooled
    connections (transports of that loop) can be closed cleanly. From another loop, or after
    this one is closed, they cannot: closing a transport schedules a callback on its own loop.

    A loop closed without ``shutdown_asyncgens`` leaves the client to the garbage collector, as
    before (asyncio's finaliser for the generator does nothing once its loop is closed). If the
    generator is dropped while its loop runs, the loop's finaliser closes the client then.
    """
    closer = _closing(client)
    step = closer.asend(None)
    try:
        step.send(None)
    except StopIteration:
        return closer  # waiting at its ``yield``
    raise AssertionError("the loop-end generator did not stop at its yield")  # pragma: no cover


async def _closing(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def provider_session(
    name: str,
    given: httpx.AsyncClient | None,
    *,
    policy: RetryPolicy | None,
    breaker: CircuitBreaker | None,
    sleep: Sleep,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> AsyncIterator[AsyncProviderClient]:
    """The retrying client for one operation: over ``given`` (the caller's to close), else over
    a client made for this operation and closed after it, so no connection pool outlives the
    event loop it was made in (``run_sync`` starts a new loop per call). Adapters whose calls
    span a long task use :class:`Connections` instead, one client per loop."""
    if given is not None:
        yield AsyncProviderClient(name, given, policy=policy, breaker=breaker, sleep=sleep)
        return
    async with httpx.AsyncClient(timeout=timeout) as client:
        yield AsyncProviderClient(name, client, policy=policy, breaker=breaker, sleep=sleep)

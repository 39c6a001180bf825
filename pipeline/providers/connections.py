"""An adapter's retrying HTTP client, made once per event loop, and the sleep its retries and
polls wait with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.http import AsyncProviderClient, RetryPolicy

__all__ = ["Connections", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


class Connections:
    """The retrying client of one adapter, per event loop.

    The synchronous ports run each batch in a fresh event loop (``run_sync``), and an
    ``httpx.AsyncClient`` must not carry pooled connections from one loop into the next; so an
    adapter that owns its client makes one per loop. A client handed in (tests, a caller that
    manages its own) is always used as is.
    """

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient | None,
        *,
        policy: RetryPolicy | None,
        breaker: CircuitBreaker | None,
        sleep: Sleep,
    ) -> None:
        self.name = name
        self.policy = policy
        self.breaker = breaker or breaker_for(name)
        self.sleep = sleep
        self._given = client
        self._owned: tuple[asyncio.AbstractEventLoop, AsyncProviderClient] | None = None

    def get(self) -> AsyncProviderClient:
        loop = asyncio.get_running_loop()
        if self._owned is not None and self._owned[0] is loop:
            return self._owned[1]
        client = self._given or httpx.AsyncClient()
        wrapped = AsyncProviderClient(
            self.name, client, policy=self.policy, breaker=self.breaker, sleep=self.sleep
        )
        self._owned = (loop, wrapped)
        return wrapped

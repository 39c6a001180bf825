"""Running an async adapter behind a synchronous port."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Runs ``coro`` to completion from synchronous code.

    The render calls ports from plain threads, where ``asyncio.run`` is right; called from a
    thread that already runs an event loop (a FastAPI handler), it runs on a fresh thread instead
    of deadlocking that loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

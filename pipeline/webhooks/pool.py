"""The attempts one dispatcher runs at once: a fixed number of threads that says how many are
free and wakes the claim loop when one frees, so the loop never waits on a slow endpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["AttemptPool"]

T = TypeVar("T")
R = TypeVar("R")


class AttemptPool:
    """``size`` threads; :meth:`submit` only into a free one, so nothing ever queues behind a
    hanging attempt. ``finished`` counts ended attempts: :meth:`wait` from a count read before
    a claim wakes on any attempt that ended since, never missing one."""

    def __init__(self, size: int, *, name: str = "webhook") -> None:
        if size < 1:
            raise ValueError("a pool needs at least one thread")
        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._changed = threading.Condition()
        self._running = 0
        self._finished = 0

    @property
    def running(self) -> int:
        with self._changed:
            return self._running

    @property
    def free(self) -> int:
        with self._changed:
            return self.size - self._running

    @property
    def finished(self) -> int:
        with self._changed:
            return self._finished

    def submit(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        """Runs ``fn(arg)`` in a free thread at once; RuntimeError when none is free."""
        with self._changed:
            if self._running >= self.size:
                raise RuntimeError("every thread of the pool is busy")
            self._running += 1
        future = self._executor.submit(fn, arg)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[R]) -> None:
        with self._changed:
            self._running -= 1
            self._finished += 1
            self._changed.notify_all()

    def wait(self, *, since: int, timeout: float) -> None:
        """Returns once an attempt has ended after ``finished`` was ``since``, or after
        ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._finished != since, timeout)

    def drain(self, timeout: float | None = None) -> bool:
        """Waits until no attempt runs, ``timeout`` seconds at most; whether none does."""
        with self._changed:
            return self._changed.wait_for(lambda: self._running == 0, timeout)

    def close(self) -> None:
        """Lets the threads go; an attempt still running finishes on its own."""
        self._executor.shutdown(wait=False, cancel_futures=True)

"""A thread-safe circuit breaker per provider, so a failing provider is not hammered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker", "breaker_for"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures → half-open ``reset_after``
    seconds later, when one trial call goes through → closed on its success, open again on failure.

    Callers ask ``allow()`` before a call and report its outcome with ``record_success()`` or
    ``record_failure()``. A half-open trial whose outcome is never reported (the caller crashed)
    is given up after another ``reset_after`` seconds, so the breaker cannot wedge half-open.
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after < 0:
            raise ValueError("reset_after must not be negative")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial call through; 0 when it is not open."""
        with self._lock:
            if self._state is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.reset_after - self._clock())

    def allow(self) -> bool:
        """Whether a call may go out now; a True from an open breaker claims the one trial."""
        with self._lock:
            now = self._clock()
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if now - self._opened_at < self.reset_after:
                    return False
                self._state = BreakerState.HALF_OPEN
            elif self._trial_started is not None and now - self._trial_started < self.reset_after:
                return False
            self._trial_started = now
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_started = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_started = None

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state.value})"


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(name: str) -> CircuitBreaker:
    """The process-wide breaker for provider ``name``, created with default settings on first use."""
    with _registry_lock:
        breaker = _registry.get(name)
        if breaker is None:
            breaker = _registry[name] = CircuitBreaker(name)
        return breaker

"""Stopping a running job from another thread: a cancel, a lost lease, or a worker shutting down."""

from __future__ import annotations

import threading

from pipeline.errors import ReelforgeError

__all__ = ["CANCELED", "LEASE_LOST", "SHUTDOWN", "JobAborted", "JobControl"]

CANCELED = "canceled"
LEASE_LOST = "lease lost"
SHUTDOWN = "worker shutting down"


class JobAborted(ReelforgeError):
    """The job was stopped: canceled, its lease lost, or the worker shutting down."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"job aborted: {reason}")


class JobControl:
    """Stops a running job from another thread (heartbeat, signal handler); the render checks it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason: str | None = None

    def abort(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
                self._event.set()

    @property
    def aborted(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raises JobAborted once the job was aborted."""
        if self.reason is not None:
            raise JobAborted(self.reason)

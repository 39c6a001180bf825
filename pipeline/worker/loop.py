"""A worker's loop: wait on LISTEN (or poll), claim a job, run it; stop cleanly on request."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from pipeline.store import Job, StoreError
from pipeline.worker.control import SHUTDOWN, JobControl
from pipeline.worker.job import JobContext, run_job

__all__ = ["Worker", "worker_name"]


def worker_name() -> str:
    """``host:pid:random``: unique, and names the process holding a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Claims and runs jobs one at a time until ``stop`` is called.

    ``stop`` (safe from a signal handler) stops claiming; a running job may finish within
    ``grace_seconds``, after which it is aborted and returned to the queue.
    """

    def __init__(
        self, context: JobContext, *, poll_seconds: float = 5.0, grace_seconds: float = 30.0
    ) -> None:
        self.context = context if context.worker else replace(context, worker=worker_name())
        self.repos = context.repos
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self._stopping = threading.Event()
        self._control: JobControl | None = None
        self._job: Job | None = None
        self._timer: threading.Timer | None = None

    @property
    def name(self) -> str:
        return self.context.worker

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop claiming; abort the running job (back to the queue) after the grace period."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        control, job = self._control, self._job
        if control is not None and job is not None:
            self._timer = threading.Timer(self.grace_seconds, self._release, (control, job))
            self._timer.daemon = True
            self._timer.start()

    def _release(self, control: JobControl, job: Job) -> None:
        """At the end of the grace period: the job goes back to the queue at once, even while the
        render is inside a long step; the render stops at its next check and publishes nothing."""
        control.abort(SHUTDOWN)
        with contextlib.suppress(StoreError):  # run_job tries again when it stops
            self.repos.jobs.release(job_id=job.id, worker=self.name, reason=SHUTDOWN)

    def _claim(self, job_id: UUID | None) -> Job | None:
        jobs, lease = self.repos.jobs, self.context.lease_seconds
        if job_id is None:
            return jobs.claim(worker=self.name, lease_seconds=lease)
        return jobs.claim_by_id(job_id=job_id, worker=self.name, lease_seconds=lease)

    def run_once(self, job_id: UUID | None = None) -> Job | None:
        """Claims and runs one job (that one, given ``job_id``); None when it was not runnable."""
        self.repos.credits.release_orphans()
        if self.stopping:
            return None
        job = self._claim(job_id)
        if job is None:
            return None
        control = JobControl()
        self._control, self._job = control, job
        if self.stopping:  # a stop between the claim and here still gets its grace period
            self._stopping.clear()
            self.stop()
        try:
            return run_job(self.context, job, control)
        finally:
            self._control = self._job = None
            if self._timer is not None:
                self._timer.cancel()

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Loops until stopped; wakes on NOTIFY, or every ``poll_seconds`` for expired leases.
        ``on_ready`` is called once, when the worker listens and is about to claim."""
        with self.repos.jobs.wakeups() as wakeups:
            if on_ready is not None:
                on_ready()
            while not self.stopping:
                if self.run_once() is None and not self.stopping:
                    wakeups.wait(self.poll_seconds)

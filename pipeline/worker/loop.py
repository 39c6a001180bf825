"""A worker's loop: wait on LISTEN (or poll), claim a job, run it; stop cleanly on request."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from pipeline.render import Ports
from pipeline.store import Job, Repositories, Store, StoreError
from pipeline.visuals import ClipFactory
from pipeline.worker.job import SHUTDOWN, JobControl, run_job

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
        self,
        *,
        store: Store,
        media_root: Path,
        name: str | None = None,
        lease_seconds: int = 60,
        poll_seconds: float = 5.0,
        grace_seconds: float = 30.0,
        ports: Callable[[], Ports] | None = None,
        offline_clips: ClipFactory | None = None,
    ) -> None:
        self.store = store
        self.repos = Repositories.postgres(store)
        self.media_root = media_root
        self.name = name or worker_name()
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self._ports = ports
        self._offline_clips = offline_clips
        self._stopping = threading.Event()
        self._control: JobControl | None = None
        self._job: Job | None = None
        self._timer: threading.Timer | None = None

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

    def run_once(self, job_id: UUID | None = None) -> Job | None:
        """Claims and runs one job (that one, given ``job_id``); None when it was not runnable."""
        jobs = self.repos.jobs
        self.repos.credits.release_orphans()
        if self.stopping:
            return None
        if job_id is None:
            job = jobs.claim(worker=self.name, lease_seconds=self.lease_seconds)
        else:
            job = jobs.claim_by_id(
                job_id=job_id, worker=self.name, lease_seconds=self.lease_seconds
            )
        if job is None:
            return None
        control = JobControl()
        self._control, self._job = control, job
        if self.stopping:  # a stop between the claim and here still gets its grace period
            self._stopping.clear()
            self.stop()
        try:
            return run_job(
                store=self.store,
                job=job,
                worker=self.name,
                media_root=self.media_root,
                lease_seconds=self.lease_seconds,
                ports=self._ports() if self._ports else None,
                offline_clips=self._offline_clips,
                control=control,
            )
        finally:
            self._control = self._job = None
            if self._timer is not None:
                self._timer.cancel()

    def run(self) -> None:
        """Loops until stopped; wakes on NOTIFY, or every ``poll_seconds`` for expired leases."""
        with self.repos.jobs.wakeups() as wakeups:
            while not self.stopping:
                if self.run_once() is None and not self.stopping:
                    wakeups.wait(self.poll_seconds)

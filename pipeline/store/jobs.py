"""The job queue: enqueue, claim under a lease, heartbeat, advance, complete, fail, cancel, events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from pipeline.store.database import Store
from pipeline.store.errors import StoreError, from_driver
from pipeline.store.models import Job, JobEvent, JobState
from pipeline.store.queries import query

__all__ = [
    "JOBS_CHANNEL",
    "advance_job",
    "cancel_job",
    "claim_job",
    "claim_job_by_id",
    "complete_job",
    "enqueue_job",
    "fail_job",
    "get_job",
    "heartbeat_job",
    "job_events",
    "job_wakeups",
]

JOBS_CHANNEL = "reelforge_jobs"


def _one(rows: list[Job], what: str) -> Job:
    if len(rows) != 1:
        raise StoreError(f"{what} returned {len(rows)} rows instead of 1")
    return rows[0]


def enqueue_job(
    *,
    store: Store,
    user_id: UUID,
    kind: str,
    payload: dict[str, Any] | None = None,
    project_id: UUID | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 3,
) -> Job:
    """Queues a job and wakes listening workers; an active job with the same dedupe key is returned instead."""
    params = {
        "user_id": user_id,
        "kind": kind,
        "payload": Jsonb(payload or {}),
        "project_id": project_id,
        "dedupe_key": dedupe_key,
        "max_attempts": max_attempts,
    }
    with store.as_service() as conn:
        return _one(store.fetch(conn, "enqueue_job", params, Job), "enqueue_job")


def claim_job(*, store: Store, worker: str, lease_seconds: int = 60) -> Job | None:
    """Claims the next runnable job (attempts + 1) or returns None when the queue is empty."""
    with store.as_service() as conn:
        rows = store.fetch(
            conn, "claim_job", {"worker": worker, "lease_seconds": lease_seconds}, Job
        )
    return rows[0] if rows else None


def claim_job_by_id(
    *, store: Store, job_id: UUID, worker: str, lease_seconds: int = 60
) -> Job | None:
    """Claims that job (attempts + 1) if it is runnable; None if it is taken, finished or not due."""
    params = {"job_id": job_id, "worker": worker, "lease_seconds": lease_seconds}
    with store.as_service() as conn:
        rows = store.fetch(conn, "claim_job_by_id", params, Job)
    return rows[0] if rows else None


def heartbeat_job(
    *,
    store: Store,
    job_id: UUID,
    worker: str,
    lease_seconds: int = 60,
    progress: float | None = None,
) -> Job:
    """Extends the lease; raises LeaseLost if another worker took the job or it was canceled."""
    params = {
        "job_id": job_id,
        "worker": worker,
        "lease_seconds": lease_seconds,
        "progress": progress,
    }
    with store.as_service() as conn:
        return _one(store.fetch(conn, "heartbeat_job", params, Job), "heartbeat_job")


def advance_job(
    *,
    store: Store,
    job_id: UUID,
    worker: str,
    state: JobState,
    checkpoint: dict[str, Any] | None = None,
    progress: float | None = None,
) -> Job:
    """Moves the job to its next working stage, checkpointing the stage it leaves."""
    params = {
        "job_id": job_id,
        "worker": worker,
        "state": str(state),
        "checkpoint": None if checkpoint is None else Jsonb(checkpoint),
        "progress": progress,
    }
    with store.as_service() as conn:
        return _one(store.fetch(conn, "advance_job", params, Job), "advance_job")


def complete_job(
    *, store: Store, job_id: UUID, worker: str, state: JobState = JobState.DELIVERED
) -> Job:
    """Finishes the job as delivered (or awaiting_review) and drops the lease."""
    params = {"job_id": job_id, "worker": worker, "state": str(state)}
    with store.as_service() as conn:
        return _one(store.fetch(conn, "complete_job", params, Job), "complete_job")


def fail_job(
    *,
    store: Store,
    job_id: UUID,
    worker: str,
    error: str,
    retry: bool = True,
    retry_delay_seconds: int = 0,
) -> Job:
    """Records a failed attempt: queued again while attempts remain, else failed with the reason."""
    params = {
        "job_id": job_id,
        "worker": worker,
        "error": error,
        "retry": retry,
        "delay": retry_delay_seconds,
    }
    with store.as_service() as conn:
        return _one(store.fetch(conn, "fail_job", params, Job), "fail_job")


def cancel_job(*, store: Store, job_id: UUID, user_id: UUID | None = None) -> Job:
    """Cancels an unfinished job; with ``user_id`` only that tenant's own job (as the API does)."""
    if user_id is None:
        with store.as_service() as conn:
            return _one(store.fetch(conn, "cancel_job", {"job_id": job_id}, Job), "cancel_job")
    with store.as_user(user_id) as conn:
        return _one(store.fetch(conn, "cancel_job", {"job_id": job_id}, Job), "cancel_job")


def get_job(*, store: Store, job_id: UUID, user_id: UUID | None = None) -> Job | None:
    """One job, as the tenant (``user_id``) or the service sees it."""
    if user_id is None:
        with store.as_service() as conn:
            rows = store.fetch(conn, "get_job", {"job_id": job_id}, Job)
    else:
        with store.as_user(user_id) as conn:
            rows = store.fetch(conn, "get_job", {"job_id": job_id}, Job)
    return rows[0] if rows else None


def job_events(
    *, store: Store, user_id: UUID, job_id: UUID, after_id: int = 0, limit: int = 500
) -> list[JobEvent]:
    """A tenant's view of a job's events after ``after_id`` (poll with the last id seen)."""
    params = {"job_id": job_id, "after_id": after_id, "limit": limit}
    with store.as_user(user_id) as conn:
        return store.fetch(conn, "job_events", params, JobEvent)


class JobWakeups:
    """A LISTEN connection on the jobs channel; ``wait`` returns the next woken job id or None."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def wait(self, timeout: float) -> UUID | None:
        try:
            for note in self._conn.notifies(timeout=timeout, stop_after=1):
                return UUID(note.payload)
        except psycopg.Error as exc:
            raise from_driver(exc, where="job wakeups") from exc
        return None


@contextmanager
def job_wakeups(*, store: Store) -> Iterator[JobWakeups]:
    """Listens for enqueued jobs on a dedicated connection, so local workers wake at once."""
    with store.connect() as conn:
        try:
            conn.execute(query("listen_jobs"))
        except psycopg.Error as exc:
            raise from_driver(exc, where="job wakeups") from exc
        yield JobWakeups(conn)

"""The jobs repository: the queue (enqueue, claim under a lease, heartbeat, advance, complete,
fail, release, cancel), a job's events, and its published outputs."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from pipeline.store.analytics import Analytics, AnalyticsRepository
from pipeline.store.database import Connection, Store
from pipeline.store.errors import StoreInputError, from_driver
from pipeline.store.models import (
    CreditHold,
    Job,
    JobDetail,
    JobEvent,
    JobListing,
    JobState,
    Render,
)
from pipeline.store.queries import execute, fetch, one, query, scalar, values

if TYPE_CHECKING:
    from pipeline.manifest import OutputEntry

__all__ = ["JOBS_CHANNEL", "JobRepository", "JobWakeups", "Jobs"]

JOBS_CHANNEL = "reelforge_jobs"


class JobWakeups:
    """Wake-ups of enqueued jobs: ``wait`` returns the next woken job id, or None after
    ``timeout`` seconds. This base hears nothing and only waits (polling): what a worker gets
    when the store cannot LISTEN (Supavisor's transaction mode drops the session, and with it
    the subscription, after every transaction)."""

    def wait(self, timeout: float) -> UUID | None:
        time.sleep(max(0.0, timeout))
        return None


class _ListeningWakeups(JobWakeups):
    """A LISTEN connection on the jobs channel."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def wait(self, timeout: float) -> UUID | None:
        try:
            for note in self._conn.notifies(timeout=timeout, stop_after=1):
                return UUID(note.payload)
        except psycopg.Error as exc:
            raise from_driver(exc, where="job wakeups") from exc
        return None


class JobRepository(Protocol):
    """Jobs: the durable queue, their events and their outputs."""

    def enqueue(
        self,
        *,
        user_id: UUID,
        kind: str,
        payload: dict[str, Any] | None = None,
        project_id: UUID | None = None,
        dedupe_key: str | None = None,
        max_attempts: int = 3,
    ) -> Job: ...
    def claim(self, *, worker: str, lease_seconds: int = 60) -> Job | None: ...
    def claim_by_id(self, *, job_id: UUID, worker: str, lease_seconds: int = 60) -> Job | None: ...
    def heartbeat(
        self, *, job_id: UUID, worker: str, lease_seconds: int = 60, progress: float | None = None
    ) -> Job: ...
    def advance(
        self,
        *,
        job_id: UUID,
        worker: str,
        state: JobState,
        checkpoint: dict[str, Any] | None = None,
        progress: float | None = None,
    ) -> Job: ...
    def complete(
        self, *, job_id: UUID, worker: str, state: JobState = JobState.DELIVERED
    ) -> Job: ...
    def fail(
        self,
        *,
        job_id: UUID,
        worker: str,
        error: str,
        retry: bool = True,
        retry_delay_seconds: int = 0,
    ) -> Job: ...
    def release(self, *, job_id: UUID, worker: str, reason: str) -> bool: ...
    def cancel(self, *, job_id: UUID, user_id: UUID | None = None) -> Job: ...
    def get(self, *, job_id: UUID, user_id: UUID | None = None) -> Job | None: ...
    def detail(self, *, user_id: UUID, job_id: UUID) -> JobDetail | None: ...
    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[JobListing]: ...
    def runnable(self, *, limit: int) -> list[UUID]: ...
    def events(
        self, *, user_id: UUID, job_id: UUID, after_id: int = 0, limit: int = 500
    ) -> list[JobEvent]: ...
    def append_event(
        self,
        conn: Connection,
        *,
        job_id: UUID,
        user_id: UUID,
        state: JobState,
        kind: str = "state",
        progress: float | None = None,
        message: str | None = None,
    ) -> None: ...
    def log_callback(self, conn: Connection, *, job_id: UUID, message: str) -> int | None: ...
    def insert_delivered(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        project_id: UUID,
        payload: dict[str, Any],
        checkpoints: dict[str, Any],
    ) -> UUID: ...
    def renders(self, *, job_id: UUID) -> list[Render]: ...
    def record_outputs(
        self,
        conn: Connection | None = None,
        *,
        user_id: UUID,
        job_id: UUID,
        project_id: UUID | None,
        outputs: Sequence[OutputEntry],
        out_dir: Path,
        preview: bool,
    ) -> tuple[UUID, ...]: ...
    def unpublish(self, *, job_id: UUID) -> None: ...
    def wakeups(self) -> AbstractContextManager[JobWakeups]: ...


class Jobs:
    """The jobs repository on PostgreSQL: the queue's transitions are SQL functions (migration
    0003), each run in its own service transaction unless a method says otherwise."""

    def __init__(self, store: Store, *, analytics: AnalyticsRepository | None = None) -> None:
        self._store = store
        self._analytics = analytics or Analytics(store)

    def _call(self, name: str, params: dict[str, Any]) -> Job:
        """One queue function in a service transaction; exactly one job row back."""
        with self._store.as_service() as conn:
            return one(fetch(conn, name, params, Job), name)

    def _maybe(self, name: str, params: dict[str, Any]) -> Job | None:
        with self._store.as_service() as conn:
            rows = fetch(conn, name, params, Job)
        return rows[0] if rows else None

    def enqueue(
        self,
        *,
        user_id: UUID,
        kind: str,
        payload: dict[str, Any] | None = None,
        project_id: UUID | None = None,
        dedupe_key: str | None = None,
        max_attempts: int = 3,
    ) -> Job:
        """Queues a job and wakes listening workers; an active job with the same dedupe key is
        returned instead."""
        params = {
            "user_id": user_id,
            "kind": kind,
            "payload": Jsonb(payload or {}),
            "project_id": project_id,
            "dedupe_key": dedupe_key,
            "max_attempts": max_attempts,
        }
        return self._call("jobs/enqueue", params)

    def claim(self, *, worker: str, lease_seconds: int = 60) -> Job | None:
        """Claims the next runnable job (attempts + 1), or None when the queue is empty."""
        return self._maybe("jobs/claim", {"worker": worker, "lease_seconds": lease_seconds})

    def claim_by_id(self, *, job_id: UUID, worker: str, lease_seconds: int = 60) -> Job | None:
        """Claims that job (attempts + 1) if it is runnable; None if it is taken, finished or
        not due."""
        params = {"job_id": job_id, "worker": worker, "lease_seconds": lease_seconds}
        return self._maybe("jobs/claim_by_id", params)

    def heartbeat(
        self, *, job_id: UUID, worker: str, lease_seconds: int = 60, progress: float | None = None
    ) -> Job:
        """Extends the lease; raises LeaseLost if another worker took the job or it was
        canceled."""
        params = {
            "job_id": job_id,
            "worker": worker,
            "lease_seconds": lease_seconds,
            "progress": progress,
        }
        return self._call("jobs/heartbeat", params)

    def advance(
        self,
        *,
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
        return self._call("jobs/advance", params)

    def complete(self, *, job_id: UUID, worker: str, state: JobState = JobState.DELIVERED) -> Job:
        """Finishes the job as delivered (or awaiting_review) and drops the lease."""
        return self._call(
            "jobs/complete", {"job_id": job_id, "worker": worker, "state": str(state)}
        )

    def fail(
        self,
        *,
        job_id: UUID,
        worker: str,
        error: str,
        retry: bool = True,
        retry_delay_seconds: int = 0,
    ) -> Job:
        """Records a failed attempt: queued again while attempts remain, else failed with the
        reason."""
        params = {
            "job_id": job_id,
            "worker": worker,
            "error": error,
            "retry": retry,
            "delay": retry_delay_seconds,
        }
        return self._call("jobs/fail", params)

    def release(self, *, job_id: UUID, worker: str, reason: str) -> bool:
        """Puts a job this worker holds back in the queue without using up an attempt
        (shutdown); False when the worker no longer holds it."""
        params = {"job_id": job_id, "worker": worker, "reason": reason}
        with self._store.as_service() as conn:
            return bool(values(conn, "jobs/release", params))

    def cancel(self, *, job_id: UUID, user_id: UUID | None = None) -> Job:
        """Cancels an unfinished job; with ``user_id`` only that tenant's own job (as the API
        does), in a transaction as that user."""
        with self._transaction(user_id) as conn:
            return one(fetch(conn, "jobs/cancel", {"job_id": job_id}, Job), "jobs/cancel")

    def get(self, *, job_id: UUID, user_id: UUID | None = None) -> Job | None:
        """One job, as the tenant (``user_id``) or the service sees it; None if not visible."""
        with self._transaction(user_id) as conn:
            rows = fetch(conn, "jobs/get", {"job_id": job_id, "user_id": user_id}, Job)
        return rows[0] if rows else None

    def detail(self, *, user_id: UUID, job_id: UUID) -> JobDetail | None:
        """The tenant's job with its outputs and its newest credit hold, read in one transaction
        as the user; None for unknown ids and other users' jobs alike."""
        params = {"job_id": job_id, "user_id": user_id}
        with self._store.as_user(user_id) as conn:
            jobs = fetch(conn, "jobs/get", params, Job)
            if not jobs:
                return None
            renders = fetch(conn, "jobs/renders", params, Render)
            holds = fetch(conn, "credits/job_hold", params, CreditHold)
        return JobDetail(job=jobs[0], renders=renders, hold=holds[0] if holds else None)

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[JobListing]:
        """Up to ``limit`` of the tenant's jobs, newest first, older than ``before`` (the
        (created_at, id) of the last job of the previous page)."""
        before_at, before_id = before if before is not None else (None, None)
        params = {
            "user_id": user_id,
            "before_at": before_at,
            "before_id": before_id,
            "limit": limit,
        }
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "jobs/list", params, JobListing)

    def runnable(self, *, limit: int) -> list[UUID]:
        """Ids of jobs a worker could claim now (queued and due, or whose lease expired), the
        longest waiting first."""
        with self._store.as_service() as conn:
            return values(conn, "jobs/runnable", {"limit": limit})

    def events(
        self, *, user_id: UUID, job_id: UUID, after_id: int = 0, limit: int = 500
    ) -> list[JobEvent]:
        """A tenant's view of a job's events after ``after_id`` (poll with the last id seen)."""
        params = {"job_id": job_id, "after_id": after_id, "limit": limit}
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "jobs/events", params, JobEvent)

    def append_event(
        self,
        conn: Connection,
        *,
        job_id: UUID,
        user_id: UUID,
        state: JobState,
        kind: str = "state",
        progress: float | None = None,
        message: str | None = None,
    ) -> None:
        """Appends one event to the job's history, inside the caller's transaction ``conn``."""
        params = {
            "job_id": job_id,
            "user_id": user_id,
            "kind": kind,
            "state": str(state),
            "progress": progress,
            "message": message,
        }
        execute(conn, "jobs/event_insert", params)

    def log_callback(self, conn: Connection, *, job_id: UUID, message: str) -> int | None:
        """Appends a ``log`` event about a provider callback to the job, inside ``conn``; its
        event id, or None when no such job exists."""
        event_id = scalar(conn, "jobs/event_callback", {"job_id": job_id, "message": message})
        return None if event_id is None else int(event_id)

    def insert_delivered(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        project_id: UUID,
        payload: dict[str, Any],
        checkpoints: dict[str, Any],
    ) -> UUID:
        """A render job that already ran to delivery (the command line renders outside the
        queue), inside the caller's service transaction ``conn``; its id."""
        params = {
            "user_id": user_id,
            "project_id": project_id,
            "payload": Jsonb(payload),
            "checkpoints": Jsonb(checkpoints),
        }
        job_id: UUID = scalar(conn, "jobs/insert_delivered", params)
        return job_id

    def renders(self, *, job_id: UUID) -> list[Render]:
        """The outputs already recorded for a job, by format (as the service)."""
        with self._store.as_service() as conn:
            return fetch(conn, "jobs/renders", {"job_id": job_id, "user_id": None}, Render)

    def record_outputs(
        self,
        conn: Connection | None = None,
        *,
        user_id: UUID,
        job_id: UUID,
        project_id: UUID | None,
        outputs: Sequence[OutputEntry],
        out_dir: Path,
        preview: bool,
    ) -> tuple[UUID, ...]:
        """Records a render's outputs (``out_dir / entry.path``, size, length, loudness, QC) and
        their creatives in one transaction: the caller's ``conn``, else a service transaction.

        A format already recorded for the job is left as it was (a resumed job publishes once
        per format); its creative, the same id for the same inputs, is refreshed. Returns the ids
        of the outputs recorded now. StoreInputError if ``outputs`` names a format twice.
        """
        formats = [entry.format for entry in outputs]
        if len(set(formats)) != len(formats):
            raise StoreInputError("renders", f"a job has one output per format, got {formats}")
        with self._store.service(conn) as tx:
            inserted = [
                scalar(tx, "jobs/renders_insert", _render_params(user_id, job_id, e, out_dir))
                for e in outputs
            ]
            self._analytics.record_creatives(
                tx,
                user_id=user_id,
                job_id=job_id,
                project_id=project_id,
                creatives=[e.creative for e in outputs if e.creative is not None],
                preview=preview,
            )
        return tuple(i for i in inserted if i is not None)

    def unpublish(self, *, job_id: UUID) -> None:
        """Deletes the recorded outputs of a job that ended canceled or failed (others keep
        theirs)."""
        with self._store.as_service() as conn:
            execute(conn, "jobs/renders_delete", {"job_id": job_id})

    @contextmanager
    def wakeups(self) -> Iterator[JobWakeups]:
        """Listens for enqueued jobs on a dedicated connection, so local workers wake at once;
        polls instead when the store cannot LISTEN (behind a transaction pooler)."""
        if not self._store.listens:
            yield JobWakeups()
            return
        with self._store.connect() as conn:
            try:
                conn.execute(query("jobs/listen"))
            except psycopg.Error as exc:
                raise from_driver(exc, where="job wakeups") from exc
            yield _ListeningWakeups(conn)

    @contextmanager
    def _transaction(self, user_id: UUID | None) -> Iterator[Connection]:
        """As that user (RLS applies) when given, else as the service."""
        if user_id is None:
            with self._store.as_service() as conn:
                yield conn
        else:
            with self._store.as_user(user_id) as conn:
                yield conn


def _render_params(
    user_id: UUID, job_id: UUID, entry: OutputEntry, out_dir: Path
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "job_id": job_id,
        "format": entry.format,
        "path": str(out_dir / entry.path),
        "width": entry.width,
        "height": entry.height,
        "duration_s": entry.duration,
        "loudness_lufs": entry.loudness_lufs,
        "qc": Jsonb(entry.qc.model_dump(mode="json")),
    }

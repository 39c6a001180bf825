"""The jobs repository in memory: a user's jobs created, canceled and read, their events, and
their outputs recorded once per format (the queue's transitions are ``MemoryQueue``'s)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pipeline.store.errors import NotFound, StoreInputError, UnknownUser
from pipeline.store.memory.analytics import MemoryAnalytics
from pipeline.store.memory.queue import MemoryQueue, add_event, job_state, update_job
from pipeline.store.memory.state import (
    FINISHED,
    FORMAT,
    RenderRow,
    State,
    argument,
    check,
    foreign_key,
    job_of,
    jsonb,
    project_of,
    row_limit,
)
from pipeline.store.models import Job, JobDetail, JobEvent, JobListing, JobState, Render

__all__ = ["MemoryJobs"]

if TYPE_CHECKING:
    from pipeline.manifest import OutputEntry

_EVENT_KINDS = frozenset({"state", "progress", "claimed", "heartbeat", "retry", "log"})


class MemoryJobs(MemoryQueue):
    """The jobs repository in memory: migration 0003's and 0006's functions, the claims and
    transitions a worker calls inherited from ``MemoryQueue``."""

    def __init__(self, st: State, *, analytics: MemoryAnalytics) -> None:
        super().__init__(st)
        self._analytics = analytics

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
        """``enqueue_job``: queues a job and wakes listeners; an active job with the same dedupe
        key is returned instead (no event, no wake-up)."""
        where = "enqueue_job"
        with self._st.lock:
            if user_id not in self._st.users:
                raise UnknownUser(where, f"unknown user {user_id}", sqlstate="RF002")
            ok = 1 <= max_attempts <= 100
            argument(ok, where, "max_attempts must be between 1 and 100")
            ok = project_of(self._st, project_id, user_id)
            argument(ok, where, f"unknown project {project_id} for user {user_id}")
            check(1 <= len(kind) <= 100, "jobs", "jobs_kind_check")
            ok = dedupe_key is None or 1 <= len(dedupe_key) <= 200
            check(ok, "jobs", "jobs_dedupe_key_check")
            if dedupe_key is not None:
                for job in self._st.jobs.values():
                    active = job.state not in FINISHED
                    if active and job.user_id == user_id and job.dedupe_key == dedupe_key:
                        return job.model_copy(deep=True)
            job = self._insert(user_id, kind, payload or {}, project_id, dedupe_key, max_attempts)
            add_event(self._st, job, "state", job.created_at, "queued")
            self._st.notify(job.id)
            return job.model_copy(deep=True)

    def _insert(
        self,
        user_id: UUID,
        kind: str,
        payload: dict[str, Any],
        project_id: UUID | None,
        dedupe_key: str | None,
        max_attempts: int,
        **columns: Any,
    ) -> Job:
        now = self._st.now()
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "project_id": project_id,
            "kind": kind,
            "payload": jsonb(payload),
            "state": JobState.QUEUED,
            "progress": 0.0,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_after": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "error": None,
            "checkpoints": {},
            "dedupe_key": dedupe_key,
            "created_at": now,
            "updated_at": now,
            "finished_at": None,
        }
        job = Job(**{**row, **columns})
        self._st.jobs[job.id] = job
        return job

    def cancel(self, *, job_id: UUID, user_id: UUID | None = None) -> Job:
        """``cancel_job``: an unfinished job canceled; a finished one returned as it is.
        NotFound for unknown ids and, with ``user_id``, other users' jobs alike."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or (user_id is not None and job.user_id != user_id):
                raise NotFound("cancel_job", f"unknown job {job_id}", sqlstate="RF006")
            if job.state in FINISHED:
                return job.model_copy(deep=True)
            now = self._st.now()
            job = update_job(
                self._st,
                job,
                now,
                state=JobState.CANCELED,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=now,
            )
            add_event(self._st, job, "state", now, "canceled")
            return job.model_copy(deep=True)

    def get(self, *, job_id: UUID, user_id: UUID | None = None) -> Job | None:
        """One job as the tenant (``user_id``) or the service sees it; None if not visible."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or (user_id is not None and job.user_id != user_id):
                return None
            return job.model_copy(deep=True)

    def detail(self, *, user_id: UUID, job_id: UUID) -> JobDetail | None:
        """The user's job with its outputs and newest hold; None if not theirs."""
        with self._st.lock:
            job = self.get(job_id=job_id, user_id=user_id)
            if job is None:
                return None
            holds = [
                h for h in self._st.holds.values() if h.job_id == job_id and h.user_id == user_id
            ]
            # Newest first; among equal times the later insert, as a heap scan usually returns.
            newest = max(reversed(holds), key=lambda h: h.created_at, default=None)
            return JobDetail(job=job, renders=self._renders(job_id, user_id), hold=newest)

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[JobListing]:
        """The user's jobs, newest first (by created_at, then id), after the cursor."""
        with self._st.lock:
            mine = [
                j
                for j in self._st.jobs.values()
                if j.user_id == user_id and (before is None or (j.created_at, j.id) < before)
            ]
        mine.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        return [JobListing.model_validate(j.model_dump()) for j in mine[: row_limit(limit)]]

    def events(
        self, *, user_id: UUID, job_id: UUID, after_id: int = 0, limit: int = 500
    ) -> list[JobEvent]:
        """The user's events of the job after ``after_id``, oldest first (others': none)."""
        with self._st.lock:
            found = [
                e
                for e in self._st.events
                if e.job_id == job_id and e.user_id == user_id and e.id > after_id
            ]
        return found[: row_limit(limit)]

    def append_event(
        self,
        conn: object,
        *,
        job_id: UUID,
        user_id: UUID,
        state: JobState,
        kind: str = "state",
        progress: float | None = None,
        message: str | None = None,
    ) -> None:
        """Appends one event (``conn`` is ignored)."""
        where = "job_events"
        with self._st.lock:
            check(kind in _EVENT_KINDS, where, "job_events_kind_check")
            target = job_state(state)
            ok = job_of(self._st, job_id, user_id)
            foreign_key(ok, where, "job_events_job_id_user_id_fkey")
            event = JobEvent(
                id=self._st.serial("job_events"),
                job_id=job_id,
                user_id=user_id,
                kind=kind,
                state=target,
                progress=progress,
                message=message,
                created_at=self._st.now(),
            )
            self._st.events.append(event)

    def log_callback(self, conn: object, *, job_id: UUID, message: str) -> int | None:
        """A ``log`` event on the job (``conn`` is ignored); its id, or None without the job."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None:
                return None
            event = JobEvent(
                id=self._st.serial("job_events"),
                job_id=job.id,
                user_id=job.user_id,
                kind="log",
                state=job.state,
                progress=None,
                message=message,
                created_at=self._st.now(),
            )
            self._st.events.append(event)
            return event.id

    def insert_delivered(
        self,
        conn: object,
        *,
        user_id: UUID,
        project_id: UUID,
        payload: dict[str, Any],
        checkpoints: dict[str, Any],
    ) -> UUID:
        """A render job that already ran to delivery (``conn`` is ignored). An INSERT: no event
        and no webhook, as the trigger fires on updates only."""
        with self._st.lock:
            foreign_key(user_id in self._st.users, "jobs", "jobs_user_id_fkey")
            ok = project_of(self._st, project_id, user_id)
            foreign_key(ok, "jobs", "jobs_project_id_user_id_fkey")
            now = self._st.now()
            job = self._insert(
                user_id,
                "render",
                payload,
                project_id,
                None,
                3,
                state=JobState.DELIVERED,
                progress=1.0,
                attempts=1,
                checkpoints=jsonb(checkpoints),
                finished_at=now,
            )
            return job.id

    def _renders(self, job_id: UUID, user_id: UUID | None) -> list[Render]:
        found = [
            r.render
            for r in self._st.renders
            if r.job_id == job_id and (user_id is None or r.user_id == user_id)
        ]
        return sorted(found, key=lambda r: r.format)

    def renders(self, *, job_id: UUID) -> list[Render]:
        """The job's recorded outputs, by format."""
        with self._st.lock:
            return self._renders(job_id, None)

    def record_outputs(
        self,
        conn: object = None,
        *,
        user_id: UUID,
        job_id: UUID,
        project_id: UUID | None,
        outputs: Sequence[OutputEntry],
        out_dir: Path,
        preview: bool,
    ) -> tuple[UUID, ...]:
        """Records the outputs once per format, and their creatives (``conn`` is ignored); the
        ids of the outputs recorded now."""
        formats = [entry.format for entry in outputs]
        if len(set(formats)) != len(formats):
            raise StoreInputError("renders", f"a job has one output per format, got {formats}")
        creatives = [e.creative for e in outputs if e.creative is not None]
        with self._st.lock:
            # One transaction in PostgreSQL: every check passes before anything is written.
            new = [e for e in outputs if self._render_checks(user_id, job_id, e)]
            self._analytics.creative_checks(user_id, job_id, project_id, creatives)
            inserted = tuple(self._insert_render(user_id, job_id, e, out_dir) for e in new)
            self._analytics.record_creatives(
                user_id=user_id,
                job_id=job_id,
                project_id=project_id,
                creatives=creatives,
                preview=preview,
            )
        return inserted

    def _render_checks(self, user_id: UUID, job_id: UUID, entry: OutputEntry) -> bool:
        """``renders_insert``'s checks, then False for a recorded (job, format) (on conflict do
        nothing), then the job's foreign key; True when the output is new."""
        check(FORMAT.fullmatch(entry.format) is not None, "renders", "renders_format_check")
        check(entry.width > 0, "renders", "renders_width_check")
        check(entry.height > 0, "renders", "renders_height_check")
        check(entry.duration > 0, "renders", "renders_duration_s_check")
        if any(r.job_id == job_id and r.render.format == entry.format for r in self._st.renders):
            return False
        ok = job_of(self._st, job_id, user_id)
        foreign_key(ok, "renders", "renders_job_id_user_id_fkey")
        return True

    def _insert_render(
        self, user_id: UUID, job_id: UUID, entry: OutputEntry, out_dir: Path
    ) -> UUID:
        render = Render(
            format=entry.format,
            path=str(out_dir / entry.path),
            width=entry.width,
            height=entry.height,
            duration_s=entry.duration,
            loudness_lufs=entry.loudness_lufs,
            created_at=self._st.now(),
        )
        row = RenderRow(uuid.uuid4(), user_id, job_id, render, entry.qc.model_dump(mode="json"))
        self._st.renders.append(row)
        return row.id

    def unpublish(self, *, job_id: UUID) -> None:
        """Deletes the outputs of a job that ended canceled or failed (others keep theirs)."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or job.state not in (JobState.CANCELED, JobState.FAILED):
                return
            self._st.renders = [r for r in self._st.renders if r.job_id != job_id]

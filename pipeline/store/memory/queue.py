"""The queue in memory, a worker's side of the jobs repository: claims under a lease, stage
transitions with their events, retries, and wake-ups (migration 0003's and 0006's functions)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.store.errors import LeaseLost, NotFound, StoreInputError
from pipeline.store.jobs import JobWakeups
from pipeline.store.memory.outbox import enqueue_webhook, job_payload
from pipeline.store.memory.state import FINISHED, WORKING, State, argument, jsonb, row_limit
from pipeline.store.models import Job, JobEvent, JobState

__all__ = ["MemoryQueue", "add_event", "job_state", "update_job"]


def update_job(st: State, job: Job, now: datetime, **changes: Any) -> Job:
    """An UPDATE of a job row (``updated_at`` = now) and the trigger of migration 0005: reaching
    delivered, failed or canceled writes the job's webhook to the outbox."""
    new = job.model_copy(update={**changes, "updated_at": now})
    st.jobs[job.id] = new
    if new.state in FINISHED and new.state != job.state:
        webhook_id = f"msg_job_{new.id.hex}_{new.state}"
        enqueue_webhook(st, new.user_id, f"job.{new.state}", job_payload(st, new), webhook_id, now)
    return new


def add_event(
    st: State, job: Job, kind: str, now: datetime, message: str | None = None
) -> JobEvent:
    """``add_job_event``: the job's state and progress as they are now."""
    event = JobEvent(
        id=st.serial("job_events"),
        job_id=job.id,
        user_id=job.user_id,
        kind=kind,
        state=job.state,
        progress=job.progress,
        message=message,
        created_at=now,
    )
    st.events.append(event)
    return event


def _due(job: Job, now: datetime) -> bool:
    """Runnable: queued and due, or working with an expired lease."""
    if job.state == JobState.QUEUED:
        return job.run_after <= now
    expires = job.lease_expires_at
    return job.state in WORKING and expires is not None and expires < now


def _take(st: State, job: Job, worker: str, lease_seconds: int, now: datetime) -> Job:
    """``take_job``: the worker's under a lease (attempts + 1), or failed when the lease ran
    out on the last attempt."""
    if job.state != JobState.QUEUED and job.attempts >= job.max_attempts:
        error = (
            f"lease of {job.lease_owner or ''} expired on attempt {job.attempts} of "
            f"{job.max_attempts}"
        )
        failed = update_job(
            st,
            job,
            now,
            state=JobState.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=error,
        )
        add_event(st, failed, "state", now, error)
        return failed
    taken = update_job(
        st,
        job,
        now,
        attempts=job.attempts + 1,
        lease_owner=worker,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        state=JobState.PLANNING if job.state == JobState.QUEUED else job.state,
    )
    message = f"{worker}, attempt {taken.attempts} of {taken.max_attempts}"
    add_event(st, taken, "claimed", now, message)
    return taken


def _claim_arguments(worker: str, lease_seconds: int) -> None:
    where = "check_claim_arguments"
    argument(1 <= len(worker) <= 200, where, "worker name must be 1 to 200 characters")
    argument(1 <= lease_seconds <= 86400, where, "lease must be between 1 and 86400 seconds")


def _progress(where: str, progress: float | None) -> None:
    argument(progress is None or 0 <= progress <= 1, where, "progress must be between 0 and 1")


def _leased(st: State, job_id: UUID, worker: str) -> Job:
    """``lock_leased_job``: the job, if this worker holds its lease in a working state."""
    job = st.jobs.get(job_id)
    if job is None:
        raise NotFound("lock_leased_job", f"unknown job {job_id}", sqlstate="RF006")
    if job.lease_owner != worker or job.state not in WORKING:
        raise LeaseLost(
            f"lock_leased_job: worker {worker} does not hold the lease of job {job_id} "
            f"(state {job.state}, owner {job.lease_owner or 'none'})",
            sqlstate="RF007",
        )
    return job


def job_state(state: JobState | str) -> JobState:
    """A state argument, cast as the query's ``::public.job_state`` casts it."""
    try:
        return JobState(state)
    except ValueError:
        problem = f'invalid input value for enum job_state: "{state}"'
        raise StoreInputError("database", problem, sqlstate="22P02") from None


class _MemoryWakeups(JobWakeups):
    """A listener on the jobs channel: ``wait`` returns the next woken job id or None."""

    def __init__(self, listener: queue.SimpleQueue[UUID]) -> None:
        self._listener = listener

    def wait(self, timeout: float) -> UUID | None:
        try:
            return self._listener.get(timeout=timeout)
        except queue.Empty:
            return None


class MemoryQueue:
    """A worker's side of the jobs repository in memory; ``MemoryJobs`` is the rest."""

    def __init__(self, st: State) -> None:
        self._st = st

    def claim(self, *, worker: str, lease_seconds: int = 60) -> Job | None:
        """``claim_job``: the oldest due queued job, else the longest-expired lease; a job whose
        lease ran out on its last attempt fails and the next one is tried."""
        _claim_arguments(worker, lease_seconds)
        with self._st.lock:
            now = self._st.now()
            while True:
                jobs = list(self._st.jobs.values())
                queued = [j for j in jobs if j.state == JobState.QUEUED and _due(j, now)]
                queued.sort(key=lambda j: (j.run_after, j.created_at))
                expired = [j for j in jobs if j.state in WORKING and _due(j, now)]
                expired.sort(key=lambda j: j.lease_expires_at or now)
                candidates = queued or expired
                if not candidates:
                    return None
                taken = _take(self._st, candidates[0], worker, lease_seconds, now)
                if taken.state != JobState.FAILED:
                    return taken.model_copy(deep=True)

    def claim_by_id(self, *, job_id: UUID, worker: str, lease_seconds: int = 60) -> Job | None:
        """``claim_job_by_id``: that job if it is runnable; None if taken, finished or not due."""
        _claim_arguments(worker, lease_seconds)
        with self._st.lock:
            now = self._st.now()
            job = self._st.jobs.get(job_id)
            if job is None or not _due(job, now):
                return None
            taken = _take(self._st, job, worker, lease_seconds, now)
            return None if taken.state == JobState.FAILED else taken.model_copy(deep=True)

    def heartbeat(
        self, *, job_id: UUID, worker: str, lease_seconds: int = 60, progress: float | None = None
    ) -> Job:
        """``heartbeat_job``: extends the lease (a progress event when ``progress`` is given)."""
        where = "heartbeat_job"
        ok = 1 <= lease_seconds <= 86400
        argument(ok, where, "lease must be between 1 and 86400 seconds")
        _progress(where, progress)
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            job = update_job(
                self._st,
                job,
                now,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                progress=job.progress if progress is None else progress,
            )
            if progress is not None:
                add_event(self._st, job, "progress", now)
            return job.model_copy(deep=True)

    def advance(
        self,
        *,
        job_id: UUID,
        worker: str,
        state: JobState,
        checkpoint: dict[str, Any] | None = None,
        progress: float | None = None,
    ) -> Job:
        """``advance_job``: the next working stage, checkpointing the stage it leaves."""
        where = "advance_job"
        target = job_state(state)
        ok = target in WORKING
        argument(ok, where, f"a job can only advance to a working state, not {target}")
        _progress(where, progress)
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            checkpoints = dict(job.checkpoints)
            if checkpoint is not None:
                checkpoints[str(job.state)] = jsonb(checkpoint)
            now = self._st.now()
            job = update_job(
                self._st,
                job,
                now,
                state=target,
                progress=job.progress if progress is None else progress,
                checkpoints=checkpoints,
            )
            add_event(self._st, job, "state", now)
            return job.model_copy(deep=True)

    def complete(self, *, job_id: UUID, worker: str, state: JobState = JobState.DELIVERED) -> Job:
        """``complete_job``: delivered (the webhook trigger fires) or awaiting_review."""
        where = "complete_job"
        target = job_state(state)
        ok = target in (JobState.DELIVERED, JobState.AWAITING_REVIEW)
        argument(ok, where, f"a job completes as delivered or awaiting_review, not {target}")
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            job = update_job(
                self._st,
                job,
                now,
                state=target,
                progress=1.0,
                lease_owner=None,
                lease_expires_at=None,
                error=None,
                finished_at=now if target == JobState.DELIVERED else None,
            )
            add_event(self._st, job, "state", now)
            return job.model_copy(deep=True)

    def fail(
        self,
        *,
        job_id: UUID,
        worker: str,
        error: str,
        retry: bool = True,
        retry_delay_seconds: int = 0,
    ) -> Job:
        """``fail_job``: queued again after the delay while attempts remain, else failed."""
        where = "fail_job"
        argument(bool(error), where, "a failure needs a reason")
        ok = 0 <= retry_delay_seconds <= 86400
        argument(ok, where, "retry delay must be between 0 and 86400 seconds")
        with self._st.lock:
            job = _leased(self._st, job_id, worker)
            now = self._st.now()
            cleared: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}
            if retry and job.attempts < job.max_attempts:
                run_after = now + timedelta(seconds=retry_delay_seconds)
                job = update_job(
                    self._st,
                    job,
                    now,
                    state=JobState.QUEUED,
                    error=error,
                    run_after=run_after,
                    **cleared,
                )
                add_event(self._st, job, "retry", now, error)
                self._st.notify(job.id)
                return job.model_copy(deep=True)
            reason = f"attempt {job.attempts} of {job.max_attempts} failed: {error}"
            job = update_job(
                self._st, job, now, state=JobState.FAILED, error=reason, finished_at=now, **cleared
            )
            add_event(self._st, job, "state", now, reason)
            return job.model_copy(deep=True)

    def release(self, *, job_id: UUID, worker: str, reason: str) -> bool:
        """Back to the queue at once, giving back the attempt; False when the worker no longer
        holds the job (no error, as the SQL returns no row)."""
        with self._st.lock:
            job = self._st.jobs.get(job_id)
            if job is None or job.lease_owner != worker or job.state not in WORKING:
                return False
            now = self._st.now()
            job = update_job(
                self._st,
                job,
                now,
                state=JobState.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                run_after=now,
                attempts=max(job.attempts - 1, 0),
            )
            add_event(self._st, job, "retry", now, reason)
            self._st.notify(job.id)
            return True

    def runnable(self, *, limit: int) -> list[UUID]:
        """Ids of jobs a worker could claim now, the longest waiting first."""
        with self._st.lock:
            now = self._st.now()
            due = [j for j in self._st.jobs.values() if _due(j, now)]
        due.sort(key=lambda j: (j.lease_expires_at or j.run_after, j.created_at))
        return [j.id for j in due[: row_limit(limit)]]

    @contextmanager
    def wakeups(self) -> Iterator[JobWakeups]:
        """Listens for enqueued and retried jobs while the block runs."""
        listener: queue.SimpleQueue[UUID] = queue.SimpleQueue()
        with self._st.lock:
            self._st.listeners.append(listener)
        try:
            yield _MemoryWakeups(listener)
        finally:
            with self._st.lock:
                self._st.listeners.remove(listener)

"""A running job's lease: renewed by a heartbeat thread, confirmed before publishing, and the
job's state advanced at stage boundaries; a lost lease or a cancel aborts the render."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from uuid import UUID

from pipeline.stages import STAGES
from pipeline.store import Job, JobState, LeaseLost, StoreError
from pipeline.store.jobs import JobRepository
from pipeline.worker.control import CANCELED, LEASE_LOST, JobControl

__all__ = ["STAGE_STATES", "Heartbeat", "StageReporter", "lost_reason", "renew"]

# The job state each render stage runs in; a job advances when the first stage of a state starts.
STAGE_STATES: dict[str, JobState] = {
    "brief": JobState.PLANNING,
    "palette": JobState.PLANNING,
    "script": JobState.PLANNING,
    "prompts": JobState.PLANNING,
    "voice": JobState.GENERATING,
    "soundtrack": JobState.GENERATING,
    "captions": JobState.GENERATING,
    "visuals": JobState.GENERATING,
    "compose": JobState.COMPOSING,
    "qc": JobState.QC,
    "deliver": JobState.QC,
}
_ORDER = [JobState.PLANNING, JobState.GENERATING, JobState.COMPOSING, JobState.QC]


# Progress is stored and sent with this many decimals, by stage changes and heartbeats alike: a
# heartbeat's rounded 0.727 after a stage change's 8/11 = 0.72727 would seem to go backwards.
PROGRESS_DIGITS = 3


def lost_reason(jobs: JobRepository, job_id: UUID) -> str:
    """Why a lease was lost: the job was canceled, or another worker took it."""
    try:
        current = jobs.get(job_id=job_id)
    except StoreError:
        return LEASE_LOST
    return CANCELED if current is not None and current.state == JobState.CANCELED else LEASE_LOST


def renew(
    jobs: JobRepository, job: Job, worker: str, lease_seconds: int, control: JobControl
) -> None:
    """Confirms (and renews) the lease right before publishing; JobAborted if it is gone."""
    try:
        jobs.heartbeat(job_id=job.id, worker=worker, lease_seconds=lease_seconds)
    except LeaseLost:
        control.abort(lost_reason(jobs, job.id))
    control.check()


class StageReporter:
    """Advances the job's state at stage boundaries (checkpointing the stage times) and aborts
    the render as soon as the control says so."""

    def __init__(self, jobs: JobRepository, job: Job, worker: str, control: JobControl) -> None:
        self._jobs = jobs
        self._job_id = job.id
        self._worker = worker
        self._control = control
        self._state = job.state if job.state in _ORDER else JobState.PLANNING
        self._seconds: dict[str, float] = {}
        self.progress = 0.0

    def _advance(self, state: JobState, progress: float) -> None:
        leaving = [s for s, st in STAGE_STATES.items() if st == self._state]
        checkpoint = {
            "stages": {s: round(self._seconds[s], 4) for s in leaving if s in self._seconds}
        }
        try:
            self._jobs.advance(
                job_id=self._job_id, worker=self._worker, state=state, checkpoint=checkpoint,
                progress=progress,
            )  # fmt: skip
        except LeaseLost:
            self._control.abort(lost_reason(self._jobs, self._job_id))
            self._control.check()
        self._state = state

    def started(self, stage: str) -> None:
        self._control.check()
        self.progress = round(STAGES.index(stage) / len(STAGES), PROGRESS_DIGITS)
        state = STAGE_STATES[stage]
        if _ORDER.index(state) > _ORDER.index(self._state):
            self._advance(state, self.progress)

    def advanced(self, stage: str, fraction: float) -> None:
        self._control.check()
        at = min(1.0, (STAGES.index(stage) + max(0.0, fraction)) / len(STAGES))
        self.progress = round(at, PROGRESS_DIGITS)

    def finished(self, stage: str, seconds: float) -> None:
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds
        self._control.check()


class Heartbeat(threading.Thread):
    """Renews the lease every lease/4 seconds; aborts the job when the lease is lost or canceled."""

    def __init__(
        self,
        jobs: JobRepository,
        job: Job,
        worker: str,
        lease_seconds: int,
        control: JobControl,
        progress: Callable[[], float],
    ) -> None:
        super().__init__(name=f"heartbeat-{job.id}", daemon=True)
        self._jobs = jobs
        self._job_id = job.id
        self._worker = worker
        self._lease = lease_seconds
        self._control = control
        self._progress = progress
        self._stop_event = threading.Event()
        self.interval = max(0.2, lease_seconds / 4)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        last_ok = time.monotonic()
        sent: float | None = None
        while not self._stop_event.wait(self.interval):
            progress = round(self._progress(), PROGRESS_DIGITS)
            try:
                self._jobs.heartbeat(
                    job_id=self._job_id, worker=self._worker, lease_seconds=self._lease,
                    progress=None if progress == sent else progress,
                )  # fmt: skip
                sent = progress
                last_ok = time.monotonic()
            except LeaseLost:
                self._control.abort(lost_reason(self._jobs, self._job_id))
                return
            except StoreError:
                # A blip: retry at the next beat; past the lease another worker may own the job.
                if time.monotonic() - last_ok >= self._lease:
                    self._control.abort(LEASE_LOST)
                    return

"""One claimed render job: hold credits, render under a heartbeated lease with stage checkpoints,
publish once per format, settle the actual cost; release the hold on failure or cancel."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from pipeline.brief import Brief, parse_brief
from pipeline.delivery import replace_dir
from pipeline.errors import BadInput, ReelforgeError
from pipeline.formats import Format
from pipeline.pricing import CREDITS_PER_SECOND, charge_for, hold_for
from pipeline.providers.errors import ProviderRejected
from pipeline.providers.registry import USAGE_LOG, build_ports, job_runtime, provider_estimate
from pipeline.providers.settings import ProviderSettings
from pipeline.providers.usage import UsageMeter
from pipeline.render import Ports, RenderOptions, render_brief
from pipeline.stages import STAGES
from pipeline.store import (
    CreditHold,
    HoldStatus,
    InsufficientCredits,
    Job,
    JobState,
    LeaseLost,
    Repositories,
    Store,
    StoreError,
)
from pipeline.store.jobs import JobRepository
from pipeline.usage import UsageLog
from pipeline.visuals import ClipFactory

__all__ = [
    "CREDITS_PER_SECOND",
    "JobAborted",
    "JobControl",
    "JobSpec",
    "actual_cost",
    "estimate_cost",
    "hold_key",
    "parse_payload",
    "run_job",
]

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


@dataclass(frozen=True)
class JobSpec:
    """A render job's payload, validated."""

    brief: Brief
    brief_data: dict[str, Any]
    options: RenderOptions

    @property
    def formats(self) -> tuple[Format, ...]:
        return self.options.formats or self.brief.formats


def parse_payload(payload: dict[str, Any], *, base_dir: Path) -> JobSpec:
    """``{"brief": {...}, "formats": [...]?, "option": n?, "preview": bool?}``; raises BadInput."""
    data = payload.get("brief")
    if not isinstance(data, dict):
        raise BadInput("payload.brief", "must be a brief mapping")
    brief = parse_brief(data, base_dir=base_dir)
    _inside(brief, base_dir)
    if brief.variants is not None:
        raise BadInput(
            "payload.brief.variants",
            "a job renders one ad: create one job per variant (the template mix is at "
            "GET /v1/analytics/recommendation), or render the batch with `reelforge render`",
        )
    raw_formats = payload.get("formats")
    formats: tuple[Format, ...] | None = None
    if raw_formats is not None:
        if not isinstance(raw_formats, list) or not raw_formats:
            raise BadInput("payload.formats", "must be a non-empty list of formats")
        try:
            formats = tuple(Format(str(f)) for f in raw_formats)
        except ValueError as exc:
            raise BadInput("payload.formats", str(exc)) from None
        if len(set(formats)) != len(formats):
            raise BadInput("payload.formats", "lists a format twice")
    option = payload.get("option")
    if option is not None and (isinstance(option, bool) or not isinstance(option, int)):
        raise BadInput("payload.option", "must be an integer")
    preview = payload.get("preview", False)
    if not isinstance(preview, bool):
        raise BadInput("payload.preview", "must be true or false")
    return JobSpec(
        brief=brief,
        brief_data=data,
        options=RenderOptions(formats=formats, option=option, preview=preview),
    )


def _inside(brief: Brief, base_dir: Path) -> None:
    """Every file a job names lies in its user's folder (or is a downloaded asset): a payload
    never reaches another user's files, whatever wrote it."""
    from pipeline.download import default_cache_dir

    roots = [base_dir.resolve(), default_cache_dir().resolve()]
    for where, path in brief.files():
        if not any(path.resolve().is_relative_to(r) for r in roots):
            raise BadInput(f"payload.brief.{where}", "must name a file in your uploads folder")


def estimate_cost(spec: JobSpec, settings: ProviderSettings | None = None) -> int:
    """The hold this job takes: the render (see pipeline.pricing) plus what its providers are
    expected to cost (see pipeline.providers.registry.provider_estimate)."""
    render = hold_for(
        duration=spec.brief.duration, formats=len(spec.formats), preview=spec.options.preview
    )
    return render + provider_estimate(spec.brief, spec.formats, settings or ProviderSettings())


def actual_cost(durations: Iterable[float], *, preview: bool) -> int:
    """The charge for the outputs made (see pipeline.pricing)."""
    return charge_for(durations, preview=preview)


def hold_key(job_id: UUID) -> str:
    """One hold per job, whatever the attempt: a resumed job gets its first hold back."""
    return f"job:{job_id}:render"


class _Reporter:
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
                job_id=self._job_id,
                worker=self._worker,
                state=state,
                checkpoint=checkpoint,
                progress=progress,
            )
        except LeaseLost:
            self._control.abort(_lost_reason(self._jobs, self._job_id))
            self._control.check()
        self._state = state

    def started(self, stage: str) -> None:
        self._control.check()
        self.progress = STAGES.index(stage) / len(STAGES)
        state = STAGE_STATES[stage]
        if _ORDER.index(state) > _ORDER.index(self._state):
            self._advance(state, self.progress)

    def advanced(self, stage: str, fraction: float) -> None:
        self._control.check()
        self.progress = min(1.0, (STAGES.index(stage) + max(0.0, fraction)) / len(STAGES))

    def finished(self, stage: str, seconds: float) -> None:
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds
        self._control.check()


def _lost_reason(jobs: JobRepository, job_id: UUID) -> str:
    try:
        current = jobs.get(job_id=job_id)
    except StoreError:
        return LEASE_LOST
    return CANCELED if current is not None and current.state == JobState.CANCELED else LEASE_LOST


class _Heartbeat(threading.Thread):
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
            progress = round(self._progress(), 3)
            try:
                self._jobs.heartbeat(
                    job_id=self._job_id,
                    worker=self._worker,
                    lease_seconds=self._lease,
                    progress=None if progress == sent else progress,
                )
                sent = progress
                last_ok = time.monotonic()
            except LeaseLost:
                self._control.abort(_lost_reason(self._jobs, self._job_id))
                return
            except StoreError:
                # A blip: retry at the next beat; past the lease another worker may own the job.
                if time.monotonic() - last_ok >= self._lease:
                    self._control.abort(LEASE_LOST)
                    return


def _recorded(jobs: JobRepository, job_id: UUID) -> dict[str, tuple[Path, float]]:
    return {r.format: (Path(r.path), r.duration_s) for r in jobs.renders(job_id=job_id)}


def _renew(
    jobs: JobRepository, job: Job, worker: str, lease_seconds: int, control: JobControl
) -> None:
    """Confirms (and renews) the lease right before publishing."""
    try:
        jobs.heartbeat(job_id=job.id, worker=worker, lease_seconds=lease_seconds)
    except LeaseLost:
        control.abort(_lost_reason(jobs, job.id))
    control.check()


def _remove_stale_attempts(user_dir: Path, job: Job) -> None:
    """Work folders of earlier attempts of this job: their workers died or lost the lease."""
    if not user_dir.is_dir():
        return
    for path in user_dir.glob(f".{job.id}.*"):
        attempt = path.name.split(".")[2]
        if attempt.isdigit() and int(attempt) < job.attempts:
            shutil.rmtree(path, ignore_errors=True)


def run_job(
    *,
    store: Store,
    job: Job,
    worker: str,
    media_root: Path,
    lease_seconds: int = 60,
    ports: Ports | None = None,
    control: JobControl | None = None,
    offline_clips: ClipFactory | None = None,
) -> Job:
    """Runs one job claimed by ``worker`` to its end (or until aborted); returns the job row after.

    The render's stage checkpoints live in ``media_root/<user>/.<job>.work/`` for as long as the
    job may run again, so a resumed attempt reuses every finished stage (voice lines, soundtrack,
    each composed format) whose inputs are unchanged; the folder goes once the job has ended.
    """
    work_dir = media_root / str(job.user_id) / f".{job.id}.work"
    after = _run_attempt(
        store=store, job=job, worker=worker, media_root=media_root, lease_seconds=lease_seconds,
        ports=ports, control=control, work_dir=work_dir, offline_clips=offline_clips,
    )  # fmt: skip
    if after.state in (JobState.DELIVERED, JobState.FAILED, JobState.CANCELED):
        shutil.rmtree(work_dir, ignore_errors=True)
    return after


def _run_attempt(
    *,
    store: Store,
    job: Job,
    worker: str,
    media_root: Path,
    lease_seconds: int,
    ports: Ports | None,
    control: JobControl | None,
    work_dir: Path,
    offline_clips: ClipFactory | None = None,
) -> Job:
    """One attempt of :func:`run_job`.

    Outputs are published in ``media_root/<user>/<job>/``. Never raises for the job's own errors:
    they fail the job (retried while attempts remain; bad input and missing credits are final).

    What a resumed attempt (lease expired, retry, shutdown release) reuses:
    - the credit hold: one per job by ``hold_key``, so it is held once and settled once (a settle
      repeated with the same actual cost is a no-op; the cost comes from the recorded renders);
    - the published outputs: if every requested format is recorded in ``renders`` and its file
      exists, nothing is rendered again; only settle and complete remain.
    Otherwise the render runs again over the job's checkpoints (see :func:`run_job`). Outputs are
    recorded with ON CONFLICT (job_id, format) DO NOTHING, so there is never a second output per
    format. Stage times are checkpointed under the state left (``checkpoints[state].stages``) and
    the outcome under ``checkpoints.qc`` (published formats, hold, actual cost).
    """
    control = control or JobControl()
    user_dir = media_root / str(job.user_id)
    final = user_dir / str(job.id)
    meter: UsageLog | None = ports.meter if ports is not None else None
    attempt_root = user_dir / f".{job.id}.{job.attempts}.{uuid.uuid4().hex[:8]}"
    _remove_stale_attempts(user_dir, job)
    repos = Repositories.postgres(store)
    jobs = repos.jobs
    reporter = _Reporter(jobs, job, worker, control)
    beat = _Heartbeat(jobs, job, worker, lease_seconds, control, lambda: reporter.progress)
    beat.start()
    hold: CreditHold | None = None
    try:
        try:
            spec = parse_payload(job.payload, base_dir=user_dir)
            recorded = _recorded(jobs, job.id)
            wanted = {f.value for f in spec.formats}
            reused = set(recorded) == wanted and all(p.is_file() for p, _ in recorded.values())
            # Before any paid work; the same key on every attempt returns the first hold.
            hold = repos.credits.hold(
                user_id=job.user_id,
                amount=estimate_cost(spec),
                job_id=job.id,
                idempotency_key=hold_key(job.id),
            )
            if hold.status == HoldStatus.RELEASED:
                raise BadInput("credits", "the job's credit hold was already released")
            if not reused:
                if ports is None:
                    ports = build_ports(
                        spec.brief,
                        ProviderSettings(),
                        job_runtime(store, job, work_dir, media_root, check=control.check),
                        offline=offline_clips,
                    )
                meter = ports.meter
                result = render_brief(
                    spec.brief,
                    attempt_root,
                    options=dataclasses.replace(spec.options, work_dir=work_dir),
                    ports=ports,
                    reporter=reporter,
                    brief_data=spec.brief_data,
                )
                _renew(jobs, job, worker, lease_seconds, control)
                user_dir.mkdir(parents=True, exist_ok=True)
                replace_dir(result.out_dir, final)
                jobs.record_outputs(
                    user_id=job.user_id,
                    job_id=job.id,
                    project_id=job.project_id,
                    outputs=result.manifest.outputs,
                    out_dir=final,
                    preview=result.manifest.preview,
                )
                recorded = _recorded(jobs, job.id)
            control.check()
            spent = _provider_spend(work_dir, meter)
            actual = min(
                hold.amount,
                actual_cost((d for _, d in recorded.values()), preview=spec.options.preview)
                + spent,
            )
            jobs.advance(
                job_id=job.id,
                worker=worker,
                state=JobState.QC,
                checkpoint={
                    "published": sorted(recorded),
                    "reused": reused,
                    "hold": str(hold.id),
                    "actual": actual,
                    "provider_credits": spent,
                },
            )
            repos.credits.settle(hold_id=hold.id, actual=actual)
            return jobs.complete(job_id=job.id, worker=worker)
        except LeaseLost:
            control.abort(_lost_reason(jobs, job.id))
            raise JobAborted(control.reason or LEASE_LOST) from None
        except JobAborted:
            raise
        except InsufficientCredits as exc:
            return _fail(
                repos, job, worker, f"insufficient credits: {exc.problem}", hold, final,
                retry=False, spent=_provider_spend(work_dir, meter),
            )  # fmt: skip
        except (BadInput, ProviderRejected) as exc:
            # the user's to fix (a key, a model name, a refused prompt): retrying cannot help
            return _fail(
                repos, job, worker, exc.message, hold, final,
                retry=False, spent=_provider_spend(work_dir, meter),
            )  # fmt: skip
        except Exception as exc:
            if control.reason is not None:
                raise JobAborted(control.reason) from exc
            message = (
                exc.message if isinstance(exc, ReelforgeError) else f"{type(exc).__name__}: {exc}"
            )
            return _fail(
                repos, job, worker, message, hold, final,
                retry=True, spent=_provider_spend(work_dir, meter),
            )  # fmt: skip
    except JobAborted as exc:
        return _aborted(
            repos, job, worker, exc.reason, hold, final, spent=_provider_spend(work_dir, meter)
        )
    finally:
        beat.stop()
        shutil.rmtree(attempt_root, ignore_errors=True)


def _provider_spend(work_dir: Path, meter: UsageLog | None) -> int:
    """Credits paid to providers by every attempt of this job (the meter's log in the work
    folder keeps earlier attempts'); 0 when no provider was called."""
    if meter is not None:
        return meter.credits
    log = work_dir / USAGE_LOG
    return UsageMeter(log=log).credits if log.is_file() else 0


def _unpublish(
    repos: Repositories, job: Job, hold: CreditHold | None, final: Path, *, spent: int = 0
) -> None:
    """For a job that ended failed or canceled: outputs removed, the hold released except for
    what providers were already paid (``spent``), which is charged."""
    if hold is not None:
        # Already settled (a cancel that raced the settlement): the charge stands.
        with contextlib.suppress(StoreError):
            if spent > 0:
                repos.credits.settle(hold_id=hold.id, actual=min(spent, hold.amount))
            else:
                repos.credits.release(hold_id=hold.id)
    repos.jobs.unpublish(job_id=job.id)
    shutil.rmtree(final, ignore_errors=True)


def _current(jobs: JobRepository, job: Job) -> Job:
    current = jobs.get(job_id=job.id)
    assert current is not None
    return current


def _fail(
    repos: Repositories,
    job: Job,
    worker: str,
    error: str,
    hold: CreditHold | None,
    final: Path,
    *,
    retry: bool,
    spent: int = 0,
) -> Job:
    try:
        after = repos.jobs.fail(job_id=job.id, worker=worker, error=error, retry=retry)
    except LeaseLost:
        reason = _lost_reason(repos.jobs, job.id)
        return _aborted(repos, job, worker, reason, hold, final, spent=spent)
    if after.state == JobState.FAILED:
        _unpublish(repos, job, hold, final, spent=spent)
    # Queued again: the hold stays for the next attempt, which gets it back by its key.
    return after


def _aborted(
    repos: Repositories,
    job: Job,
    worker: str,
    reason: str,
    hold: CreditHold | None,
    final: Path,
    *,
    spent: int = 0,
) -> Job:
    if reason == CANCELED:
        _unpublish(repos, job, hold, final, spent=spent)
    elif reason == SHUTDOWN:
        repos.jobs.release(job_id=job.id, worker=worker, reason=reason)
    # Lease lost: another worker owns the job now, with the same hold; leave everything to it.
    return _current(repos.jobs, job)

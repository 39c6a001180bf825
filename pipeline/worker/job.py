"""One claimed render job, in four steps: prepare (the request in the payload, the credit hold)
→ produce (the render, over the job's checkpoints) → publish (outputs into the blob store,
recorded once per format) → settle (the actual cost charged, the job delivered). Every exception
becomes one outcome (failed, retried, or aborted) in one place.

What a resumed attempt (lease expired, retry, shutdown release) reuses:
- the credit hold: one per job by ``hold_key``, held once and settled once;
- the published outputs: if every requested format is recorded and its file is stored, nothing
  is rendered again; only settle and complete remain;
- otherwise the render's stage checkpoints in the job's work folder
  (``media_root/<user>/.<job>.work/``), which lives until the job has ended.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from uuid import UUID

from pipeline.errors import BadInput, ReelforgeError
from pipeline.pricing import charge_for
from pipeline.providers.errors import ProviderRejected
from pipeline.providers.usage import UsageMeter
from pipeline.render import RenderRequest, RenderResult
from pipeline.settings import Settings
from pipeline.storage import BlobStore, local_copy, validate_key
from pipeline.store import (
    CreditHold,
    HoldStatus,
    InsufficientCredits,
    Job,
    JobState,
    LeaseLost,
    Repositories,
    StoreError,
)
from pipeline.usage import UsageLog
from pipeline.visuals import ClipFactory
from pipeline.wiring import PortsFactory, estimate
from pipeline.wiring.runtime import USAGE_LOG, prices
from pipeline.worker.control import CANCELED, SHUTDOWN, JobAborted, JobControl
from pipeline.worker.lease import Heartbeat, StageReporter, lost_reason, renew
from pipeline.worker.renderer import LocalRenderer, RenderCall, Renderer

__all__ = ["JobContext", "fetch_uploads", "hold_key", "job_request", "run_job"]

_ENDED = (JobState.DELIVERED, JobState.FAILED, JobState.CANCELED)
_TYPES = {".mp4": "video/mp4", ".png": "image/png", ".json": "application/json"}


@dataclass(frozen=True)
class JobContext:
    """What a worker gives every job it runs. ``ports``: a factory standing in for the
    composition root (tests); ``offline_clips``: how offline scenes are drawn; ``renderer``:
    where the render runs (this process, or a Modal container without secrets)."""

    repos: Repositories
    settings: Settings
    blobs: BlobStore
    worker: str
    lease_seconds: int = 60
    ports: PortsFactory | None = None
    offline_clips: ClipFactory | None = None
    renderer: Renderer = field(default_factory=LocalRenderer)


def hold_key(job_id: UUID) -> str:
    """One hold per job, whatever the attempt: a resumed job gets its first hold back."""
    return f"job:{job_id}:render"


_SHA256 = re.compile(r"[0-9a-f]{64}")


def fetch_uploads(
    payload: dict[str, object], *, user_dir: Path, user_id: UUID, blobs: BlobStore
) -> None:
    """The uploads a payload names under ``files`` (``"uploads/<sha256>.<ext>"`` → blob key)
    fetched from the blob store into the user's uploads folder, each checked against the
    SHA-256 its content address names. BadInput unless every key is one of this user's uploads
    and lands at exactly its own name: a payload never reaches another user's files."""
    files = payload.get("files")
    if files is None:
        return
    if not isinstance(files, dict):
        raise BadInput("payload.files", "must map file names to blob keys")
    for rel, key in files.items():
        where = f"payload.files[{rel!r}]"
        name = PurePosixPath(str(key)).name
        stem = name.split(".", 1)[0]
        if (
            not isinstance(key, str) or key != f"{user_id}/uploads/{name}"
            or rel != f"uploads/{name}" or not _SHA256.fullmatch(stem)
        ):  # fmt: skip
            raise BadInput(where, "must name one of your uploads")
        validate_key(key)
        local_copy(blobs, key, user_dir / "uploads" / name, sha256=stem)


def job_request(payload: dict[str, object], *, user_dir: Path, settings: Settings) -> RenderRequest:
    """The payload as a render request; BadInput unless every file it names lies in the user's
    folder (or the asset cache): a payload never reaches another user's files, whatever wrote it."""
    request = RenderRequest.from_payload(payload, base_dir=user_dir)
    roots = [user_dir.resolve(), settings.asset_cache.resolve()]
    for where, path in request.brief.files():
        if not any(path.resolve().is_relative_to(r) for r in roots):
            raise BadInput(f"payload.brief.{where}", "must name a file in your uploads folder")
    return request


@dataclass
class _Attempt:
    ctx: JobContext
    job: Job
    control: JobControl
    work_dir: Path
    root: Path  # this attempt's private output folder
    request: RenderRequest | None = None
    hold: CreditHold | None = None
    meter: UsageLog | None = None
    keys: list[str] = field(default_factory=list)  # blobs this job may have published

    @property
    def prefix(self) -> str:
        return f"{self.job.user_id}/{self.job.id}"

    @property
    def user_dir(self) -> Path:
        return self.ctx.settings.media_root / str(self.job.user_id)


def run_job(ctx: JobContext, job: Job, control: JobControl | None = None) -> Job:
    """Runs one job claimed by ``ctx.worker`` to its end (or until aborted); returns the job row
    after. Never raises for the job's own errors: they fail it (retried while attempts remain;
    bad input and missing credits are final)."""
    user_dir = ctx.settings.media_root / str(job.user_id)
    attempt = _Attempt(
        ctx, job, control or JobControl(), work_dir=user_dir / f".{job.id}.work",
        root=user_dir / f".{job.id}.{job.attempts}.{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    _remove_stale_attempts(user_dir, job)
    reporter = StageReporter(ctx.repos.jobs, job, ctx.worker, attempt.control)
    beat = Heartbeat(
        ctx.repos.jobs, job, ctx.worker, ctx.lease_seconds, attempt.control,
        lambda: reporter.progress,
    )  # fmt: skip
    beat.start()
    try:
        after = _run(attempt, reporter)
    finally:
        beat.stop()
        shutil.rmtree(attempt.root, ignore_errors=True)
    if after.state in _ENDED:
        shutil.rmtree(attempt.work_dir, ignore_errors=True)
    return after


def _run(attempt: _Attempt, reporter: StageReporter) -> Job:
    try:
        _prepare(attempt)
        recorded = _already_published(attempt)
        if recorded is None:
            recorded = _publish(attempt, _produce(attempt, reporter))
        return _settle(attempt, recorded)
    except Exception as exc:
        return _conclude(attempt, exc)


def _prepare(a: _Attempt) -> None:
    """The request in the payload, then the hold, before any paid work (the same key on every
    attempt returns the first hold)."""
    settings = a.ctx.settings
    fetch_uploads(a.job.payload, user_dir=a.user_dir, user_id=a.job.user_id, blobs=a.ctx.blobs)
    a.request = job_request(a.job.payload, user_dir=a.user_dir, settings=settings)
    a.keys = _keys(a.prefix, a.request)
    a.hold = a.ctx.repos.credits.hold(
        user_id=a.job.user_id, amount=estimate(a.request, settings).credits, job_id=a.job.id,
        idempotency_key=hold_key(a.job.id),
    )  # fmt: skip
    if a.hold.status == HoldStatus.RELEASED:
        raise BadInput("credits", "the job's credit hold was already released")


def _keys(prefix: str, request: RenderRequest) -> list[str]:
    names = [f"{f.value}{ext}" for f in request.chosen_formats for ext in (".mp4", ".png")]
    return [f"{prefix}/{name}" for name in [*names, "manifest.json"]]


def _already_published(a: _Attempt) -> dict[str, float] | None:
    """The outputs an earlier attempt published, when every requested format is there."""
    assert a.request is not None
    recorded = {r.format: r for r in a.ctx.repos.jobs.renders(job_id=a.job.id)}
    wanted = {f.value for f in a.request.chosen_formats}
    if set(recorded) != wanted or not all(a.ctx.blobs.exists(r.path) for r in recorded.values()):
        return None
    return {fmt: r.duration_s for fmt, r in recorded.items()}


def _produce(a: _Attempt, reporter: StageReporter) -> RenderResult:
    """The render, into this attempt's private folder, over the job's checkpoints."""
    assert a.request is not None
    ctx = a.ctx
    request = a.request.model_copy(update={"work_dir": a.work_dir, "owner": a.job.user_id})
    call = RenderCall(
        request=request, job=a.job, out_root=a.root, reporter=reporter, control=a.control,
        settings=ctx.settings, events=ctx.repos.providers, claims=ctx.repos.claims,
        ports=ctx.ports, offline=ctx.offline_clips,
    )  # fmt: skip
    result, a.meter = ctx.renderer.render(call)
    return result


def _publish(a: _Attempt, result: RenderResult) -> dict[str, float]:
    """Every output file into the blob store (the manifest last), then the outputs recorded in
    one transaction; a format recorded by an earlier attempt stays as it was."""
    ctx = a.ctx
    renew(ctx.repos.jobs, a.job, ctx.worker, ctx.lease_seconds, a.control)
    files = sorted(result.out_dir.iterdir(), key=lambda p: p.name == "manifest.json")
    for path in files:
        ctx.blobs.put(f"{a.prefix}/{path.name}", path, content_type=_TYPES[path.suffix])
    ctx.repos.jobs.record_outputs(
        user_id=a.job.user_id, job_id=a.job.id, project_id=a.job.project_id,
        outputs=result.manifest.outputs, out_dir=Path(a.prefix), preview=result.manifest.preview,
    )  # fmt: skip
    return {r.format: r.duration_s for r in ctx.repos.jobs.renders(job_id=a.job.id)}


def _settle(a: _Attempt, recorded: dict[str, float]) -> Job:
    """The actual cost (outputs made, plus what providers were paid, at most the hold)
    checkpointed, settled, and the job delivered."""
    assert a.request is not None and a.hold is not None
    a.control.check()
    jobs, spent = a.ctx.repos.jobs, _provider_spend(a)
    actual = min(a.hold.amount, charge_for(recorded.values(), preview=a.request.preview) + spent)
    checkpoint = {
        "published": sorted(recorded), "hold": str(a.hold.id), "actual": actual,
        "provider_credits": spent,
    }  # fmt: skip
    jobs.advance(job_id=a.job.id, worker=a.ctx.worker, state=JobState.QC, checkpoint=checkpoint)
    a.ctx.repos.credits.settle(hold_id=a.hold.id, actual=actual)
    return jobs.complete(job_id=a.job.id, worker=a.ctx.worker)


@dataclass(frozen=True)
class _Outcome:
    """How an attempt ends when it does not deliver: aborted (``reason``) or failed (``error``,
    queued again when ``retry`` and attempts remain)."""

    reason: str | None = None
    error: str = ""
    retry: bool = False


def _outcome(exc: Exception, a: _Attempt) -> _Outcome:
    """The one mapping from what went wrong to what happens to the job."""
    if isinstance(exc, LeaseLost):
        a.control.abort(lost_reason(a.ctx.repos.jobs, a.job.id))
        return _Outcome(reason=a.control.reason)
    if isinstance(exc, JobAborted):
        return _Outcome(reason=exc.reason)
    if isinstance(exc, InsufficientCredits):
        return _Outcome(error=f"insufficient credits: {exc.problem}")
    if isinstance(exc, BadInput | ProviderRejected):
        # the user's to fix (a key, a model name, a refused prompt): retrying cannot help
        return _Outcome(error=exc.message)
    if a.control.reason is not None:  # the failure came from stopping the render
        return _Outcome(reason=a.control.reason)
    message = exc.message if isinstance(exc, ReelforgeError) else f"{type(exc).__name__}: {exc}"
    return _Outcome(error=message, retry=True)


def _conclude(a: _Attempt, exc: Exception) -> Job:
    outcome = _outcome(exc, a)
    if outcome.reason is not None:
        return _aborted(a, outcome.reason)
    jobs = a.ctx.repos.jobs
    try:
        after = jobs.fail(job_id=a.job.id, worker=a.ctx.worker, error=outcome.error,
                          retry=outcome.retry)  # fmt: skip
    except LeaseLost:
        return _aborted(a, lost_reason(jobs, a.job.id))
    if after.state == JobState.FAILED:
        _unpublish(a)
    # Queued again: the hold stays for the next attempt, which gets it back by its key.
    return after


def _aborted(a: _Attempt, reason: str) -> Job:
    if reason == CANCELED:
        _unpublish(a)
    elif reason == SHUTDOWN:
        a.ctx.repos.jobs.release(job_id=a.job.id, worker=a.ctx.worker, reason=reason)
    # Lease lost: another worker owns the job now, with the same hold; leave everything to it.
    current = a.ctx.repos.jobs.get(job_id=a.job.id)
    assert current is not None
    return current


def _unpublish(a: _Attempt) -> None:
    """For a job that ended failed or canceled: outputs removed, the hold released except for
    what providers were already paid, which is charged."""
    if a.hold is not None:
        spent = _provider_spend(a)
        # Already settled (a cancel that raced the settlement): the charge stands.
        with contextlib.suppress(StoreError):
            if spent > 0:
                a.ctx.repos.credits.settle(hold_id=a.hold.id, actual=min(spent, a.hold.amount))
            else:
                a.ctx.repos.credits.release(hold_id=a.hold.id)
    keys = a.keys or [r.path for r in a.ctx.repos.jobs.renders(job_id=a.job.id)]
    a.ctx.repos.jobs.unpublish(job_id=a.job.id)
    for key in keys:
        with contextlib.suppress(ReelforgeError):
            a.ctx.blobs.delete(key)


def _provider_spend(a: _Attempt) -> int:
    """Credits paid to providers by every attempt of this job (the meter's log in the work
    folder keeps earlier attempts'); 0 when no provider was called."""
    if a.meter is not None:
        return a.meter.credits
    log = a.work_dir / USAGE_LOG
    return UsageMeter(prices(a.ctx.settings), log=log).credits if log.is_file() else 0


def _remove_stale_attempts(user_dir: Path, job: Job) -> None:
    """Output folders of earlier attempts of this job: their workers died or lost the lease."""
    if not user_dir.is_dir():
        return
    for path in user_dir.glob(f".{job.id}.*"):
        attempt = path.name.split(".")[2]
        if attempt.isdigit() and int(attempt) < job.attempts:
            shutil.rmtree(path, ignore_errors=True)

"""Render jobs over the API: start one from a project (the chosen script goes into the payload,
so the worker renders exactly what the user read), read it, list, cancel."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import UUID

from starlette.exceptions import HTTPException

from pipeline.api import projects
from pipeline.api.brief_files import BriefFiles
from pipeline.api.cursor import decode_job_cursor, encode_cursor
from pipeline.api.events import TERMINAL
from pipeline.api.models import (
    CostOut,
    JobIn,
    JobOut,
    JobPage,
    JobSummary,
    OutputOut,
    ProjectOut,
)
from pipeline.api.outputs import output, stage_seconds
from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.render import RenderRequest
from pipeline.settings import Settings
from pipeline.storage import BlobStore
from pipeline.store import InsufficientCredits, Job, JobState, NotFound, Repositories
from pipeline.wiring import estimate

__all__ = [
    "JobFinished",
    "cancel",
    "check_job",
    "create_job",
    "dedupe_key",
    "list_jobs",
    "read_job",
]


class JobFinished(HTTPException):
    """The job already ended: nothing to cancel."""

    def __init__(self, state: JobState) -> None:
        super().__init__(409, f"the job is already {state}; it cannot be canceled")


def dedupe_key(idempotency_key: str) -> str:
    """The job dedupe key of an Idempotency-Key: one active job per key, whatever happens."""
    return "idem:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _request(project: ProjectOut, body: JobIn, files: BriefFiles) -> RenderRequest:
    """The render the user asked for: the project's brief with its files in their uploads, and
    the script of the chosen option (``body.option``, else the project's choice, else 1) as the
    project shows it."""
    brief = Brief.model_validate(project.brief)
    option = body.option if body.option is not None else project.chosen_script or 1
    if not 1 <= option <= len(project.script_options):
        raise BadInput("option", f"must be between 1 and {len(project.script_options)}")
    return RenderRequest(
        brief=projects.resolve_uploads(brief, files),
        script=project.script_options[option - 1], option=option,
        formats=tuple(body.formats) if body.formats is not None else None, preview=body.preview,
    ).checked()  # fmt: skip


def create_job(
    *,
    repos: Repositories,
    user_id: UUID,
    project_id: UUID,
    body: JobIn,
    settings: Settings,
    blobs: BlobStore,
    idempotency_key: str,
) -> JobOut:
    """Queues a render of the project's brief and chosen (or given) script option; a job the
    balance cannot cover is refused now (the worker's hold would fail it later, after the user
    has moved on), at exactly the estimate the worker holds.

    The payload names the brief's files relative to the user's folder, and under ``files``
    the blob key of each upload among them, so a worker on any machine fetches them."""
    project = projects.get_project(repos=repos, user_id=user_id, project_id=project_id)
    if project.status == "archived":
        raise BadInput("project", "an archived project cannot be rendered")
    files = BriefFiles(repos=repos, blobs=blobs, settings=settings, user_id=user_id)
    request = _request(project, body, files)
    hold = estimate(request, settings).credits
    balance = repos.credits.balance(user_id=user_id)
    if balance < hold:
        raise InsufficientCredits(
            "credits", f"this render holds {hold} credits; the balance is {balance}"
        )
    # File names relative to the user's media folder, which is the worker's base.
    relative = request.brief.map_files(
        lambda _, path: Path("uploads") / path.relative_to(files.folder.resolve())
    )
    payload = request.model_copy(update={"brief": relative}).to_payload()
    if files.keys:
        payload["files"] = files.keys
    job = repos.jobs.enqueue(
        user_id=user_id, kind="render", payload=payload, project_id=project_id,
        dedupe_key=dedupe_key(idempotency_key),
    )  # fmt: skip
    return _detail(job, stages={}, outputs=[], cost=None)


def _detail(
    job: Job, *, stages: dict[str, float], outputs: list[OutputOut], cost: CostOut | None
) -> JobOut:
    return JobOut(
        **job.model_dump(include=set(JobSummary.model_fields) | {"max_attempts"}),
        stages=stages,
        outputs=outputs,
        cost=cost,
    )


def read_job(*, repos: Repositories, user_id: UUID, job_id: UUID, blobs: BlobStore) -> JobOut:
    """The user's job with its outputs (signed URLs) and cost; NotFound for others' jobs."""
    found = repos.jobs.detail(user_id=user_id, job_id=job_id)
    if found is None:
        raise NotFound("job", "no such job")
    job, hold = found.job, found.hold
    cost = None
    if hold is not None:
        cost = CostOut(held=hold.amount, status=hold.status, charged=hold.settled_amount)
    outputs = [output(r, blobs) for r in found.renders]
    return _detail(job, stages=stage_seconds(job.checkpoints), outputs=outputs, cost=cost)


def list_jobs(*, repos: Repositories, user_id: UUID, cursor: str | None, limit: int) -> JobPage:
    """Up to ``limit`` jobs, newest first, after ``cursor``."""
    before = decode_job_cursor(cursor) if cursor is not None else None
    rows = repos.jobs.page(user_id=user_id, before=before, limit=limit + 1)
    items = [JobSummary.model_validate(r.model_dump()) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return JobPage(
        items=items,
        next_cursor=encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None,
    )


def cancel(*, repos: Repositories, user_id: UUID, job_id: UUID, blobs: BlobStore) -> JobOut:
    """Cancels the user's unfinished job; JobFinished (409) if it already ended."""
    current = check_job(repos=repos, user_id=user_id, job_id=job_id)
    if current.state in TERMINAL:
        raise JobFinished(current.state)
    after = repos.jobs.cancel(job_id=job_id, user_id=user_id)
    if after.state != JobState.CANCELED:
        # It ended between the read and the cancel.
        raise JobFinished(after.state)
    return read_job(repos=repos, user_id=user_id, job_id=job_id, blobs=blobs)


def check_job(*, repos: Repositories, user_id: UUID, job_id: UUID) -> Job:
    """The user's job, or NotFound."""
    job = repos.jobs.get(job_id=job_id, user_id=user_id)
    if job is None:
        raise NotFound("job", "no such job")
    return job

"""Render jobs over the API: start one from a project, read it (stages, outputs, cost), list,
cancel, and stream its events as Server-Sent Events."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import anyio
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from pipeline.api import projects
from pipeline.api.settings import ApiSettings
from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.stages import STAGES
from pipeline.storage import BlobStore, LocalFolderStore, StorageError
from pipeline.store import (
    HoldStatus,
    InsufficientCredits,
    Job,
    JobEvent,
    JobState,
    NotFound,
    Repositories,
)
from pipeline.store.models import Render
from pipeline.worker.job import estimate_cost, parse_payload

__all__ = [
    "TERMINAL",
    "URL_SECONDS",
    "CostOut",
    "JobEventOut",
    "JobFinished",
    "JobIn",
    "JobOut",
    "JobPage",
    "JobSummary",
    "OutputOut",
    "cancel",
    "check_job",
    "create_job",
    "decode_cursor",
    "dedupe_key",
    "encode_cursor",
    "event_stream",
    "list_jobs",
    "media_store",
    "parse_last_event_id",
    "read_job",
]

TERMINAL: Final = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})
URL_SECONDS: Final = 3600
# Without a shared JWT secret, download URLs are signed with a key of this process only.
_PROCESS_SECRET: Final = secrets.token_bytes(32)

_JOB_EXAMPLE: Final[dict[str, Any]] = {
    "id": "5d0c1f7a-2b1e-4a7c-9f0e-7b2d8c6a1e34",
    "project_id": "0b7e3f7e-8c1a-4f2e-9a59-3f1d2c4b5a60",
    "kind": "render",
    "state": "delivered",
    "progress": 1.0,
    "attempts": 1,
    "max_attempts": 3,
    "error": None,
    "stages": {"brief": 0.01, "script": 0.2, "voice": 1.4, "compose": 6.1},
    "outputs": [
        {
            "format": "9x16",
            "width": 1080,
            "height": 1920,
            "duration_s": 15.0,
            "loudness_lufs": -14.1,
            "url": "https://api.example.com/v1/files/u/j/ad_9x16.mp4?expires=1790000000&signature=ab12",
            "url_expires_at": "2026-11-21T11:05:00Z",
        }
    ],
    "cost": {"held": 160, "status": "settled", "charged": 150},
    "created_at": "2026-11-21T10:00:00Z",
    "updated_at": "2026-11-21T10:05:00Z",
    "finished_at": "2026-11-21T10:05:00Z",
}


class JobIn(BaseModel):
    """What to render of the project: formats (default: the brief's), script option, draft."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"formats": ["9x16", "1x1"], "option": 2}, {}]},
    )

    formats: list[Format] | None = Field(
        default=None, min_length=1, description="formats to render instead of the brief's"
    )
    option: int | None = Field(
        default=None, ge=1, description="script option (1-based); default: the project's choice"
    )
    preview: bool = Field(default=False, description="a cheap low-resolution draft")

    @field_validator("formats")
    @classmethod
    def _distinct(cls, value: list[Format] | None) -> list[Format] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a format twice")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class OutputOut(_Out):
    """One delivered video, with a download URL that expires."""

    format: str
    width: int
    height: int
    duration_s: float
    loudness_lufs: float | None
    url: str | None = Field(description="signed download URL; null if the file is gone")
    url_expires_at: datetime | None


class CostOut(_Out):
    """The job's credits: held when it starts, then settled at the actual cost or released."""

    held: int = Field(description="credits reserved for the job")
    status: HoldStatus
    charged: int | None = Field(description="credits taken, once settled")


class JobSummary(_Out):
    """A job in a list."""

    id: UUID
    project_id: UUID | None
    kind: str
    state: JobState
    progress: float = Field(ge=0, le=1)
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobOut(JobSummary):
    """A job: its state and progress, seconds per stage, outputs and cost."""

    model_config = ConfigDict(json_schema_extra={"examples": [_JOB_EXAMPLE]})

    max_attempts: int
    stages: dict[str, float] = Field(description="seconds spent per finished stage")
    outputs: list[OutputOut]
    cost: CostOut | None = Field(description="null until the worker holds credits")


class JobPage(_Out):
    """Jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {k: v for k, v in _JOB_EXAMPLE.items() if k in JobSummary.model_fields}
                    ],
                    "next_cursor": "WyIyMDI2LTExLTIxVDEwOjAwOjAwKzAwOjAwIiwgIjVkMGMiXQ",
                }
            ]
        }
    )

    items: list[JobSummary]
    next_cursor: str | None = Field(description="null on the last page")


class JobEventOut(_Out):
    """One job event, as the ``data:`` of a Server-Sent Event (its ``id:`` is ``id``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "kind": "state",
                    "state": "generating",
                    "progress": 0.36,
                    "message": None,
                    "created_at": "2026-11-21T10:01:00+00:00",
                }
            ]
        }
    )

    id: int
    kind: str = Field(description="state, progress, claimed, heartbeat, retry or log")
    state: JobState
    progress: float | None
    message: str | None
    created_at: datetime


class JobFinished(HTTPException):
    """The job already ended: nothing to cancel."""

    def __init__(self, state: JobState) -> None:
        super().__init__(409, f"the job is already {state}; it cannot be canceled")


def media_store(settings: ApiSettings, *, base_url: str) -> LocalFolderStore:
    """The media folder as a blob store whose URLs are ``{base_url}/files/<key>?...``.

    The signing key is derived from the JWT secret (shared by every API process); without one,
    it is this process's own.
    """
    secret = _PROCESS_SECRET
    if settings.jwt_secret is not None:
        material = settings.jwt_secret.get_secret_value().encode()
        secret = hmac.new(material, b"reelforge media urls", hashlib.sha256).digest()
    settings.media_root.mkdir(parents=True, exist_ok=True)
    return LocalFolderStore(settings.media_root, url_secret=secret, base_url=base_url)


def dedupe_key(idempotency_key: str) -> str:
    """The job dedupe key of an Idempotency-Key: one active job per key, whatever happens."""
    return "idem:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def _payload(brief: Brief, body: JobIn, option: int | None) -> dict[str, Any]:
    # File names relative to the user's media folder (the worker's base), inside uploads/.
    data = brief.model_dump(mode="json")
    product = data["product"]
    product["photos"] = [f"uploads/{p}" for p in product["photos"]]
    for name in ("logo", "font"):
        if data["brand"].get(name):
            data["brand"][name] = f"uploads/{data['brand'][name]}"
    if data.get("music"):
        data["music"] = f"uploads/{data['music']}"
    if data["voice"].get("file"):
        data["voice"]["file"] = f"uploads/{data['voice']['file']}"
    payload: dict[str, Any] = {"brief": data, "preview": body.preview}
    if body.formats is not None:
        payload["formats"] = [str(f) for f in body.formats]
    if option is not None:
        payload["option"] = option
    return payload


def create_job(
    *,
    repos: Repositories,
    user_id: UUID,
    project_id: UUID,
    body: JobIn,
    settings: ApiSettings,
    idempotency_key: str,
) -> JobOut:
    """Queues a render of the project's brief and chosen (or given) script option."""
    project = projects.get_project(repos=repos, user_id=user_id, project_id=project_id)
    if project.status == "archived":
        raise BadInput("project", "an archived project cannot be rendered")
    brief = Brief.model_validate(project.brief)
    option = body.option if body.option is not None else project.chosen_script
    if option is not None and option > brief.options:
        raise BadInput("option", f"must be between 1 and {brief.options}")
    # Every named file must be in the user's uploads, as when the project was created.
    projects.resolve_uploads(brief, settings.uploads(user_id))
    payload = _payload(brief, body, option)
    # What the worker will parse: a payload it would refuse is refused now, and so is a job the
    # balance cannot cover (the worker's hold would fail it later, after the user has moved on).
    hold = estimate_cost(parse_payload(payload, base_dir=settings.media_root / str(user_id)))
    balance = repos.credits.balance(user_id=user_id)
    if balance < hold:
        raise InsufficientCredits(
            "credits", f"this render holds {hold} credits; the balance is {balance}"
        )
    job = repos.jobs.enqueue(
        user_id=user_id,
        kind="render",
        payload=payload,
        project_id=project_id,
        dedupe_key=dedupe_key(idempotency_key),
    )
    return _detail(job, stages={}, outputs=[], cost=None)


def _stages(checkpoints: dict[str, Any]) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for checkpoint in checkpoints.values():
        stages = checkpoint.get("stages") if isinstance(checkpoint, dict) else None
        if isinstance(stages, dict):
            for name, value in stages.items():
                if isinstance(value, int | float):
                    seconds[str(name)] = float(value)
    order = {name: i for i, name in enumerate(STAGES)}
    return dict(sorted(seconds.items(), key=lambda kv: order.get(kv[0], len(order))))


def _output(render: Render, blobs: BlobStore, media_root: Path) -> OutputOut:
    url: str | None = None
    expires: datetime | None = None
    path = Path(render.path)
    root = media_root.resolve()
    full = (path if path.is_absolute() else root / path).resolve()
    if full.is_relative_to(root):
        try:
            url = blobs.signed_url(full.relative_to(root).as_posix(), expires_in=URL_SECONDS)
            expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=URL_SECONDS)
        except (StorageError, BadInput):
            url = None
    return OutputOut(
        format=render.format,
        width=render.width,
        height=render.height,
        duration_s=render.duration_s,
        loudness_lufs=render.loudness_lufs,
        url=url,
        url_expires_at=expires,
    )


def _detail(
    job: Job, *, stages: dict[str, float], outputs: list[OutputOut], cost: CostOut | None
) -> JobOut:
    return JobOut(
        **job.model_dump(include=set(JobSummary.model_fields) | {"max_attempts"}),
        stages=stages,
        outputs=outputs,
        cost=cost,
    )


def read_job(
    *, repos: Repositories, user_id: UUID, job_id: UUID, blobs: BlobStore, media_root: Path
) -> JobOut:
    """The user's job with its outputs (signed URLs) and cost; NotFound for others' jobs."""
    found = repos.jobs.detail(user_id=user_id, job_id=job_id)
    if found is None:
        raise NotFound("job", "no such job")
    job, hold = found.job, found.hold
    cost = None
    if hold is not None:
        cost = CostOut(held=hold.amount, status=hold.status, charged=hold.settled_amount)
    outputs = [_output(r, blobs, media_root) for r in found.renders]
    return _detail(job, stages=_stages(job.checkpoints), outputs=outputs, cost=cost)


def encode_cursor(created_at: datetime, job_id: UUID) -> str:
    """An opaque cursor for "jobs older than this one"."""
    raw = json.dumps([created_at.isoformat(), str(job_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (created_at, id) inside a cursor; BadInput on ``cursor`` if it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, job_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, UUID(job_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise BadInput("cursor", "is not a cursor returned by this API") from None


def list_jobs(*, repos: Repositories, user_id: UUID, cursor: str | None, limit: int) -> JobPage:
    """Up to ``limit`` jobs, newest first, after ``cursor``."""
    before = decode_cursor(cursor) if cursor is not None else None
    rows = repos.jobs.page(user_id=user_id, before=before, limit=limit + 1)
    items = [JobSummary.model_validate(r.model_dump()) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if more else None
    return JobPage(
        items=items, next_cursor=encode_cursor(last.created_at, last.id) if last else None
    )


def cancel(
    *, repos: Repositories, user_id: UUID, job_id: UUID, blobs: BlobStore, media_root: Path
) -> JobOut:
    """Cancels the user's unfinished job; JobFinished (409) if it already ended."""
    current = repos.jobs.get(job_id=job_id, user_id=user_id)
    if current is None:
        raise NotFound("job", "no such job")
    if current.state in TERMINAL:
        raise JobFinished(current.state)
    after = repos.jobs.cancel(job_id=job_id, user_id=user_id)
    if after.state != JobState.CANCELED:
        # It ended between the read and the cancel.
        raise JobFinished(after.state)
    return read_job(repos=repos, user_id=user_id, job_id=job_id, blobs=blobs, media_root=media_root)


def check_job(*, repos: Repositories, user_id: UUID, job_id: UUID) -> Job:
    """The user's job, or NotFound."""
    job = repos.jobs.get(job_id=job_id, user_id=user_id)
    if job is None:
        raise NotFound("job", "no such job")
    return job


def parse_last_event_id(value: str | None) -> int:
    """The event id to resume after (0: from the start); 400 if it is not one of ours."""
    if value is None or not value.strip():
        return 0
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise HTTPException(400, "Last-Event-ID must be an event id sent by this stream")
    return int(text)


def _sse(event: JobEvent) -> str:
    data = JobEventOut.model_validate(event.model_dump()).model_dump_json()
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


async def event_stream(
    *,
    repos: Repositories,
    user_id: UUID,
    job_id: UUID,
    after_id: int,
    poll_seconds: float = 0.5,
    heartbeat_seconds: float = 15.0,
    batch: int = 500,
) -> AsyncIterator[str]:
    """The job's events after ``after_id`` as SSE frames, then new ones until the job ends.

    The job is read before its events: its final state is committed with its last event, so a
    terminal state read first means every event is already visible.
    """
    yield f"retry: {round(poll_seconds * 4000)}\n\n"
    last_sent = time.monotonic()
    while True:
        job = await anyio.to_thread.run_sync(
            partial(repos.jobs.get, job_id=job_id, user_id=user_id)
        )
        events = await anyio.to_thread.run_sync(
            partial(
                repos.jobs.events, user_id=user_id, job_id=job_id, after_id=after_id, limit=batch
            )
        )
        for event in events:
            yield _sse(event)
            after_id = event.id
            last_sent = time.monotonic()
        if len(events) == batch:
            continue
        if job is None or job.state in TERMINAL:
            return
        if time.monotonic() - last_sent >= heartbeat_seconds:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        await anyio.sleep(poll_seconds)

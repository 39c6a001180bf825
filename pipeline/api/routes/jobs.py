"""Render jobs: start one (with an Idempotency-Key), read, list, cancel, stream events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException

from pipeline.api import events, idempotency, jobs
from pipeline.api.deps import BlobsDep, CurrentUser, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import JobEventOut, JobIn, JobOut, JobPage

router = APIRouter(prefix="/v1", tags=["jobs"], responses=problem_responses(401, 404))


def idempotency_key(request: Request) -> str:
    """The request's Idempotency-Key; a 400 problem if it is missing or malformed."""
    try:
        return idempotency.validate_key(request.headers.get(idempotency.HEADER))
    except idempotency.InvalidKey as exc:
        raise HTTPException(400, str(exc)) from None


IdempotencyKey = Annotated[str, Depends(idempotency_key)]

_KEY_PARAMETER: dict[str, Any] = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": True,
    "description": (
        "1 to 255 visible ASCII characters, unique per request (a UUID). The first response is "
        "replayed for at least 24 h to the same request with the same key; another body under the key is "
        "a 422, and a retry while the first request still runs is a 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "example": "8e6f3c7e-5f4d-4d0b-9a0b-2f9f1a6c7d21",
}


@router.post(
    "/projects/{project_id}/jobs",
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    summary="Start a render job for a project",
    description=(
        "Queues a render of the project's brief with its chosen script option (or `option`). "
        "Replays carry the header `Idempotent-Replayed: true`."
    ),
    responses=problem_responses(400, 409, 413, 422),
    openapi_extra={"parameters": [_KEY_PARAMETER]},
)
def create_job(
    request: Request,
    project_id: UUID,
    body: JobIn,
    user: CurrentUser,
    repos: ReposDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    key: IdempotencyKey,
) -> Response:
    def run() -> tuple[int, Any]:
        job = jobs.create_job(
            repos=repos,
            user_id=user,
            project_id=project_id,
            body=body,
            settings=settings,
            blobs=blobs,
            idempotency_key=key,
        )
        return status.HTTP_201_CREATED, job.model_dump(mode="json")

    return idempotency.respond(
        request=request,
        repos=repos,
        user_id=user,
        key=key,
        body=body.model_dump(mode="json"),
        run=run,
    )


@router.get("/jobs", summary="List jobs, newest first", responses=problem_responses(422))
def list_jobs(
    user: CurrentUser,
    repos: ReposDep,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JobPage:
    return jobs.list_jobs(repos=repos, user_id=user, cursor=cursor, limit=limit)


@router.get("/jobs/{job_id}", summary="Read a job: state, stages, outputs and cost")
def get_job(job_id: UUID, user: CurrentUser, repos: ReposDep, blobs: BlobsDep) -> JobOut:
    return jobs.read_job(repos=repos, user_id=user, job_id=job_id, blobs=blobs)


@router.post(
    "/jobs/{job_id}/cancel", summary="Cancel an unfinished job", responses=problem_responses(409)
)
def cancel_job(job_id: UUID, user: CurrentUser, repos: ReposDep, blobs: BlobsDep) -> JobOut:
    return jobs.cancel(repos=repos, user_id=user, job_id=job_id, blobs=blobs)


@router.get(
    "/jobs/{job_id}/events",
    summary="Stream a job's events (Server-Sent Events)",
    description=(
        "Each event is `id: <event id>`, `event: <kind>` (state, progress, claimed, heartbeat, "
        "retry, log) and `data: <JSON>`; comment lines keep the connection alive every 15 s. "
        "The stream ends when the job is delivered, failed or canceled. Reconnect with "
        "`Last-Event-ID` to resume right after the last event received."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "model": JobEventOut,
            "description": "the event stream; each `data:` line is a JobEventOut",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": (
                        "id: 7\nevent: state\ndata: "
                        '{"id": 7, "kind": "state", "state": "generating", "progress": 0.36, '
                        '"message": null, "created_at": "2026-11-21T10:01:00+00:00"}\n\n'
                    ),
                }
            },
        },
        **problem_responses(400),
    },
)
def job_events(
    job_id: UUID,
    user: CurrentUser,
    repos: ReposDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            pattern=r"^\s*[0-9]{0,19}\s*$",
            description="resume after this event id (the `id:` of an event this stream sent)",
        ),
    ] = None,
) -> StreamingResponse:
    after = events.parse_last_event_id(last_event_id)
    jobs.check_job(repos=repos, user_id=user, job_id=job_id)
    stream = events.event_stream(repos=repos, user_id=user, job_id=job_id, after_id=after)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

"""Projects: create from a brief (script options written at once), list, read, edit and choose a
script, delete."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, status

from pipeline.api import projects
from pipeline.api.deps import BlobsDep, CurrentUser, MediaDeskDep, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import BRIEF_EXAMPLE, ProjectOut, ProjectPatch
from pipeline.api.upload_models import Deleted, ProjectPage

router = APIRouter(
    prefix="/v1/projects", tags=["projects"], responses=problem_responses(401, 404, 413, 422)
)


def project_context(
    user: CurrentUser,
    repos: ReposDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    desk: MediaDeskDep,
) -> projects.ProjectContext:
    return projects.ProjectContext(
        repos=repos, blobs=blobs, settings=settings, desk=desk, user_id=user
    )


Context = Annotated[projects.ProjectContext, Depends(project_context)]

# Taken raw (and documented as a Brief): https URLs in file fields must reach the fetcher as
# written, before a Path would fold their '//'.
BriefBody = Annotated[
    dict[str, Any],
    Body(
        openapi_examples={
            "espresso": {
                "summary": "A cup with one uploaded photo",
                "description": (
                    "File fields (`product.photos`, `brand.logo`, `brand.font`, `music`, "
                    "`voice.file`) name uploads as `upload:<id>` (POST /v1/uploads), https URLs "
                    "(fetched and recorded as uploads), or, in local development, files in "
                    "your uploads folder."
                ),
                "value": BRIEF_EXAMPLE,
            }
        }
    ),
]
_BRIEF_SCHEMA = {
    "requestBody": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Brief"}}}
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a project from a brief",
    responses=problem_responses(400),
    openapi_extra=_BRIEF_SCHEMA,
)
def create_project(brief: BriefBody, ctx: Context) -> ProjectOut:
    return projects.create_project(ctx, brief)


@router.get("", summary="List projects, newest first")
def list_projects(
    user: CurrentUser,
    repos: ReposDep,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ProjectPage:
    return projects.list_projects(repos=repos, user_id=user, cursor=cursor, limit=limit)


@router.get("/{project_id}", summary="Read a project")
def get_project(project_id: UUID, user: CurrentUser, repos: ReposDep) -> ProjectOut:
    return projects.get_project(repos=repos, user_id=user, project_id=project_id)


@router.patch(
    "/{project_id}",
    summary="Edit a project's brief or choose a script option",
    responses=problem_responses(400, 409),
)
def update_project(project_id: UUID, patch: ProjectPatch, ctx: Context) -> ProjectOut:
    return projects.update_project(ctx, project_id, patch)


@router.delete(
    "/{project_id}",
    summary="Delete a project",
    description=(
        "Its jobs' outputs are removed from storage, and the uploads its brief names unless "
        "another of your projects names them. Its jobs stay, without the project or its brief: "
        "their credit holds and ledger entries are your money history. Refused (409) while one "
        "of its jobs has not ended: cancel it first."
    ),
    responses=problem_responses(409),
)
def delete_project(project_id: UUID, ctx: Context) -> Deleted:
    return projects.delete_project(ctx, project_id)

"""Projects: create from a brief (script options written at once), read, edit and choose a script."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, status

from pipeline.api import projects
from pipeline.api.deps import CurrentUser, PortsDep, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import BRIEF_EXAMPLE, ProjectOut, ProjectPatch
from pipeline.brief import Brief

router = APIRouter(
    prefix="/v1/projects", tags=["projects"], responses=problem_responses(401, 404, 413, 422)
)

BriefBody = Annotated[
    Brief,
    Body(
        openapi_examples={
            "espresso": {
                "summary": "A cup with one uploaded photo",
                "description": "`photos` name files in your uploads folder.",
                "value": BRIEF_EXAMPLE,
            }
        }
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a project from a brief",
    responses=problem_responses(400),
)
def create_project(
    brief: BriefBody, user: CurrentUser, repos: ReposDep, settings: SettingsDep, ports: PortsDep
) -> ProjectOut:
    return projects.create_project(
        repos=repos, user_id=user, brief=brief, settings=settings, ports=ports
    )


@router.get("/{project_id}", summary="Read a project")
def get_project(project_id: UUID, user: CurrentUser, repos: ReposDep) -> ProjectOut:
    return projects.get_project(repos=repos, user_id=user, project_id=project_id)


@router.patch(
    "/{project_id}",
    summary="Edit a project's brief or choose a script option",
    responses=problem_responses(400, 409),
)
def update_project(
    project_id: UUID,
    patch: ProjectPatch,
    user: CurrentUser,
    repos: ReposDep,
    settings: SettingsDep,
    ports: PortsDep,
) -> ProjectOut:
    return projects.update_project(
        repos=repos, user_id=user, project_id=project_id, patch=patch, settings=settings,
        ports=ports,
    )  # fmt: skip

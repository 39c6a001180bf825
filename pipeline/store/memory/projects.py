"""The projects repository in memory: a user's projects, versioned by ``updated_at``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.store.errors import Conflict
from pipeline.store.memory.state import (
    FINISHED,
    ProjectRow,
    State,
    check,
    foreign_key,
    jsonb,
    row_limit,
)
from pipeline.store.models import Project, ProjectDeletion, ProjectListing

__all__ = ["MemoryProjects"]


class MemoryProjects:
    """The projects repository in memory; a user sees only their own projects."""

    def __init__(self, st: State) -> None:
        self._st = st

    def _insert(
        self,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        *,
        chosen_script: int | None,
        status: str,
    ) -> Project:
        check(1 <= len(name) <= 200, "projects", "projects_name_check")
        ok = chosen_script is None or chosen_script >= 0
        check(ok, "projects", "projects_chosen_script_check")
        foreign_key(user_id in self._st.users, "projects", "projects_user_id_fkey")
        now = self._st.now()
        project = Project(
            id=uuid.uuid4(),
            name=name,
            status=status,
            brief=jsonb(brief),
            script_options=jsonb(script_options),
            chosen_script=chosen_script,
            created_at=now,
            updated_at=now,
        )
        self._st.projects[project.id] = ProjectRow(user_id, project)
        return project

    def create(
        self,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
    ) -> Project:
        """A scripted project of the user."""
        with self._st.lock:
            made = self._insert(
                user_id, name, brief, script_options, chosen_script=None, status="scripted"
            )
            return made.model_copy(deep=True)

    def get(self, *, user_id: UUID, project_id: UUID) -> Project | None:
        """The user's project; None for unknown ids and other users' projects alike."""
        with self._st.lock:
            row = self._st.projects.get(project_id)
            if row is None or row.user_id != user_id:
                return None
            return row.project.model_copy(deep=True)

    def update(
        self,
        *,
        user_id: UUID,
        project_id: UUID,
        seen: datetime,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int | None,
    ) -> Project | None:
        """Replaces the project if its ``updated_at`` is still ``seen``; None otherwise (also for
        other users' projects)."""
        with self._st.lock:
            row = self._st.projects.get(project_id)
            if row is None or row.user_id != user_id or row.project.updated_at != seen:
                return None
            check(1 <= len(name) <= 200, "projects", "projects_name_check")
            ok = chosen_script is None or chosen_script >= 0
            check(ok, "projects", "projects_chosen_script_check")
            # clock_timestamp(): always after the version it replaces.
            stamp = max(self._st.now(), row.project.updated_at + timedelta(microseconds=1))
            row.project = row.project.model_copy(
                update={
                    "name": name,
                    "brief": jsonb(brief),
                    "script_options": jsonb(script_options),
                    "chosen_script": chosen_script,
                    "updated_at": stamp,
                }
            )
            return row.project.model_copy(deep=True)

    def insert_delivered(
        self,
        conn: object,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int,
    ) -> UUID:
        """A delivered project for a command-line render (``conn`` is ignored)."""
        with self._st.lock:
            made = self._insert(
                user_id,
                name,
                brief,
                script_options,
                chosen_script=chosen_script,
                status="delivered",
            )
            return made.id

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[ProjectListing]:
        """The user's projects, newest first (by created_at, then id), after the cursor."""
        with self._st.lock:
            mine = [
                r.project for r in self._st.projects.values()
                if r.user_id == user_id
                and (before is None or (r.project.created_at, r.project.id) < before)
            ]  # fmt: skip
        mine.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return [ProjectListing.model_validate(p.model_dump()) for p in mine[: row_limit(limit)]]

    def using(self, *, user_id: UUID, ref: str, except_id: UUID | None = None) -> list[UUID]:
        """The user's projects but ``except_id`` whose brief holds ``ref`` as a value."""
        with self._st.lock:
            found = [
                r.project for r in self._st.projects.values()
                if r.user_id == user_id and r.project.id != except_id
                and _holds(r.project.brief, ref)
            ]  # fmt: skip
        return [p.id for p in sorted(found, key=lambda p: p.created_at)]

    def delete(self, *, user_id: UUID, project_id: UUID) -> ProjectDeletion | None:
        """Deletes the user's project: its outputs go, its jobs stay detached; Conflict while
        one of its jobs runs."""
        with self._st.lock:
            row = self._st.projects.get(project_id)
            if row is None or row.user_id != user_id:
                return None
            st = self._st
            jobs = [j for j in st.jobs.values() if j.project_id == project_id]
            if any(j.state not in FINISHED for j in jobs):
                raise Conflict("project: a job of this project is still running; cancel it first")
            ids = {j.id for j in jobs}
            paths = sorted(r.render.path for r in st.renders if r.job_id in ids)
            st.renders = [r for r in st.renders if r.job_id not in ids]
            now = st.now()
            for job in jobs:
                st.jobs[job.id] = job.model_copy(
                    update={"project_id": None, "payload": {}, "updated_at": now}
                )
            for creative in st.creatives.values():
                if creative.project_id == project_id:
                    creative.project_id = None
            del st.projects[project_id]
            return ProjectDeletion(
                brief=jsonb(row.project.brief), job_ids=[j.id for j in jobs], render_paths=paths
            )


def _holds(value: Any, ref: str) -> bool:
    """Whether ``ref`` is a string value anywhere in ``value`` (jsonpath ``$.** ? (@ == $ref)``)."""
    if isinstance(value, dict):
        return any(_holds(v, ref) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, ref) for v in value)
    return isinstance(value, str) and value == ref

"""The projects repository: a brief with its script options and the chosen one, created and
edited by its user (under RLS), or recorded whole for a finished command-line render."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.store.database import Connection, Store
from pipeline.store.errors import Conflict
from pipeline.store.models import Project, ProjectDeletion, ProjectListing
from pipeline.store.queries import execute, fetch, first, one, scalar, values

__all__ = ["ProjectRepository", "Projects"]


class ProjectRepository(Protocol):
    """Projects: briefs and their script options."""

    def create(
        self,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
    ) -> Project: ...
    def get(self, *, user_id: UUID, project_id: UUID) -> Project | None: ...
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
    ) -> Project | None: ...
    def insert_delivered(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int,
    ) -> UUID: ...
    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[ProjectListing]: ...
    def using(self, *, user_id: UUID, ref: str, except_id: UUID | None = None) -> list[UUID]: ...
    def delete(self, *, user_id: UUID, project_id: UUID) -> ProjectDeletion | None: ...


class Projects:
    """The projects repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
    ) -> Project:
        """Stores a scripted project as the user (RLS checks ``user_id`` is the caller)."""
        params = {
            "user_id": user_id,
            "name": name,
            "brief": Jsonb(brief),
            "script_options": Jsonb(script_options),
        }
        with self._store.as_user(user_id) as conn:
            return one(fetch(conn, "projects/insert", params, Project), "projects/insert")

    def get(self, *, user_id: UUID, project_id: UUID) -> Project | None:
        """The user's project; None for unknown ids and other users' projects alike."""
        with self._store.as_user(user_id) as conn:
            rows = fetch(conn, "projects/get", {"id": project_id, "user_id": user_id}, Project)
        return rows[0] if rows else None

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
        """Replaces the project's brief, options and choice if its ``updated_at`` is still
        ``seen`` (nobody changed it since it was read); None otherwise."""
        params = {
            "id": project_id,
            "user_id": user_id,
            "seen": seen,
            "name": name,
            "brief": Jsonb(brief),
            "script_options": Jsonb(script_options),
            "chosen_script": chosen_script,
        }
        with self._store.as_user(user_id) as conn:
            rows = fetch(conn, "projects/update", params, Project)
        return rows[0] if rows else None

    def insert_delivered(
        self,
        conn: Connection,
        *,
        user_id: UUID,
        name: str,
        brief: dict[str, Any],
        script_options: list[dict[str, Any]],
        chosen_script: int,
    ) -> UUID:
        """A delivered project for a finished command-line render, inside the caller's service
        transaction ``conn``; its id."""
        params = {
            "user_id": user_id,
            "name": name,
            "brief": Jsonb(brief),
            "script_options": Jsonb(script_options),
            "chosen_script": chosen_script,
        }
        project_id: UUID = scalar(conn, "projects/insert_delivered", params)
        return project_id

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[ProjectListing]:
        """Up to ``limit`` of the user's projects, newest first, older than ``before`` (the
        (created_at, id) of the last project of the previous page)."""
        before_at, before_id = before if before is not None else (None, None)
        params = {"user_id": user_id, "before_at": before_at, "before_id": before_id,
                  "limit": limit}  # fmt: skip
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "projects/list", params, ProjectListing)

    def using(self, *, user_id: UUID, ref: str, except_id: UUID | None = None) -> list[UUID]:
        """The user's projects (but ``except_id``) whose brief names ``ref`` as a value, oldest
        first: who still needs an upload."""
        params = {"user_id": user_id, "ref": ref, "except_id": except_id}
        with self._store.as_user(user_id) as conn:
            return values(conn, "projects/using", params)

    def delete(self, *, user_id: UUID, project_id: UUID) -> ProjectDeletion | None:
        """Deletes the user's project in one service transaction: its jobs' recorded outputs go,
        its jobs stay (credit holds and the ledger point at them: money history) without the
        project or its brief. None if there is no such project; Conflict while one of its jobs
        has not ended (cancel it first)."""
        params = {"id": project_id, "user_id": user_id}
        with self._store.as_service() as conn:
            row = first(conn, "projects/lock", params)
            if row is None:
                return None
            if scalar(conn, "projects/active_jobs", params):
                raise Conflict("project: a job of this project is still running; cancel it first")
            paths = values(conn, "projects/delete_renders", params)
            jobs = values(conn, "projects/detach_jobs", params)
            execute(conn, "projects/delete", params)
        return ProjectDeletion(brief=row[0], job_ids=jobs, render_paths=sorted(paths))

"""The projects repository: a brief with its script options and the chosen one, created and
edited by its user (under RLS), or recorded whole for a finished command-line render."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.store.database import Connection, Store
from pipeline.store.models import Project
from pipeline.store.queries import fetch, one, scalar

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

"""The projects repository in memory: a user's projects, versioned by ``updated_at``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pipeline.store.memory.state import ProjectRow, State, check, foreign_key, jsonb
from pipeline.store.models import Project

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

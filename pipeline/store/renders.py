"""Recording a render the command line finished: its project, a delivered job with its stage
times and one event, then its outputs and their creatives, all in one service transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from pipeline.store.database import Store
from pipeline.store.models import JobState
from pipeline.store.repositories import Repositories
from pipeline.store.users import local_user_id

if TYPE_CHECKING:
    from pipeline.manifest import Manifest

__all__ = ["RecordedRender", "local_user_id", "record_render"]


class RecordedRender(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: UUID
    project_id: UUID
    job_id: UUID
    render_ids: tuple[UUID, ...]


def record_render(
    *, store: Store, manifest: Manifest, out_dir: Path, user_id: UUID, email: str | None = None
) -> RecordedRender:
    """Writes the render in one service transaction: all of it, or (on any error) none of it.

    ``email`` creates the user first: only for the embedded database, whose ``auth.users`` is ours.
    """
    repos = Repositories.postgres(store)
    with store.as_service() as conn:
        if email is not None:
            repos.users.ensure_local(conn, user_id=user_id, email=email)
        project_id = repos.projects.insert_delivered(
            conn,
            user_id=user_id,
            name=str(manifest.brief["product"]["name"]),
            brief=manifest.brief,
            script_options=[s.model_dump(mode="json") for s in manifest.scripts],
            chosen_script=manifest.chosen_option,
        )
        payload = {
            "sku": manifest.sku,
            "preview": manifest.preview,
            "formats": [o.format for o in manifest.outputs],
            "brief_hash": manifest.brief_hash,
        }
        job_id = repos.jobs.insert_delivered(
            conn,
            user_id=user_id,
            project_id=project_id,
            payload=payload,
            checkpoints={"stages": manifest.stages},
        )
        repos.jobs.append_event(
            conn,
            job_id=job_id,
            user_id=user_id,
            state=JobState.DELIVERED,
            progress=1.0,
            message=f"rendered by the command line into {out_dir}",
        )
        render_ids = repos.jobs.record_outputs(
            conn,
            user_id=user_id,
            job_id=job_id,
            project_id=project_id,
            outputs=manifest.outputs,
            out_dir=out_dir,
            preview=manifest.preview,
        )
    return RecordedRender(
        user_id=user_id, project_id=project_id, job_id=job_id, render_ids=render_ids
    )

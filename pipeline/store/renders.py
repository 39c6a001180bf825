"""Recording a finished render: its project, a delivered job with its stage times, one row per output
and its creative."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict

from pipeline.analytics.store import record_creatives
from pipeline.manifest import Manifest
from pipeline.store.database import Store
from pipeline.store.errors import from_driver
from pipeline.store.queries import query

__all__ = ["RecordedRender", "local_user_id", "record_render"]

LOCAL_USER_EMAIL = "local@reelforge.invalid"


class RecordedRender(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: UUID
    project_id: UUID
    job_id: UUID
    render_ids: tuple[UUID, ...]


def local_user_id(email: str) -> UUID:
    """A stable user id for a developer's email, the same on every run."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"reelforge:user:{email.strip().lower()}")


def _returning_id(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> UUID:
    row = conn.execute(query(name), params).fetchone()
    assert row is not None
    value = row[0]
    assert isinstance(value, UUID)
    return value


def record_render(
    *, store: Store, manifest: Manifest, out_dir: Path, user_id: UUID, email: str | None = None
) -> RecordedRender:
    """Write the render in one service transaction: all of it, or (on any error) none of it.

    ``email`` creates the user first: only for the embedded database, whose ``auth.users`` is ours.
    """
    try:
        with store.as_service() as conn:
            if email is not None:
                conn.execute(query("ensure_local_user"), {"user_id": user_id, "email": email})
            project_id = _returning_id(
                conn,
                "insert_project",
                {
                    "user_id": user_id,
                    "name": str(manifest.brief["product"]["name"]),
                    "brief": Jsonb(manifest.brief),
                    "script_options": Jsonb([s.model_dump(mode="json") for s in manifest.scripts]),
                    "chosen_script": manifest.chosen_option,
                },
            )
            job_id = _returning_id(
                conn,
                "insert_delivered_job",
                {
                    "user_id": user_id,
                    "project_id": project_id,
                    "payload": Jsonb(
                        {
                            "sku": manifest.sku,
                            "preview": manifest.preview,
                            "formats": [o.format for o in manifest.outputs],
                            "brief_hash": manifest.brief_hash,
                        }
                    ),
                    "checkpoints": Jsonb({"stages": manifest.stages}),
                },
            )
            conn.execute(
                query("insert_job_event"),
                {
                    "job_id": job_id,
                    "user_id": user_id,
                    "kind": "state",
                    "state": "delivered",
                    "progress": 1.0,
                    "message": f"rendered by the command line into {out_dir}",
                },
            )
            render_ids = tuple(
                _returning_id(
                    conn,
                    "insert_render",
                    {
                        "user_id": user_id,
                        "job_id": job_id,
                        "format": entry.format,
                        "path": str(out_dir / entry.path),
                        "width": entry.width,
                        "height": entry.height,
                        "duration_s": entry.duration,
                        "loudness_lufs": entry.loudness_lufs,
                        "qc": Jsonb(entry.qc.model_dump(mode="json")),
                    },
                )
                for entry in manifest.outputs
            )
            record_creatives(
                conn,
                user_id=user_id,
                job_id=job_id,
                project_id=project_id,
                creatives=(e.creative for e in manifest.outputs if e.creative is not None),
                preview=manifest.preview,
            )
    except psycopg.Error as exc:
        raise from_driver(exc) from exc
    return RecordedRender(
        user_id=user_id, project_id=project_id, job_id=job_id, render_ids=render_ids
    )

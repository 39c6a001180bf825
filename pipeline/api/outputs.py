"""A job's outputs as the API shows them: signed download links from the blob store, and the
seconds each stage took."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pipeline.api.models import OutputOut
from pipeline.errors import BadInput
from pipeline.stages import STAGES
from pipeline.storage import BlobStore, StorageError
from pipeline.store.models import Render

__all__ = ["URL_SECONDS", "output", "stage_seconds"]

URL_SECONDS: Final = 3600


def output(render: Render, blobs: BlobStore) -> OutputOut:
    """One output with a link that expires in URL_SECONDS (None once the file is gone)."""
    url: str | None = None
    expires: datetime | None = None
    try:
        url = blobs.signed_url(render.path, expires_in=URL_SECONDS)
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=URL_SECONDS)
    except (StorageError, BadInput):
        url = None
    return OutputOut(
        format=render.format, width=render.width, height=render.height,
        duration_s=render.duration_s, loudness_lufs=render.loudness_lufs, url=url,
        url_expires_at=expires,
    )  # fmt: skip


def stage_seconds(checkpoints: dict[str, Any]) -> dict[str, float]:
    """Seconds per finished stage, in pipeline order, from the job's checkpoints."""
    seconds: dict[str, float] = {}
    for checkpoint in checkpoints.values():
        stages = checkpoint.get("stages") if isinstance(checkpoint, dict) else None
        if isinstance(stages, dict):
            for name, value in stages.items():
                if isinstance(value, int | float):
                    seconds[str(name)] = float(value)
    order = {name: i for i, name in enumerate(STAGES)}
    return dict(sorted(seconds.items(), key=lambda kv: order.get(kv[0], len(order))))

"""Delivery: posters from the finished videos, and the atomic swap of a render into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipeline.containers import input_args
from pipeline.media.ffmpeg import run_ffmpeg

__all__ = ["poster", "replace_dir"]


def poster(video: Path, at: float, out: Path) -> None:
    run_ffmpeg(
        [*input_args(video), "-ss", f"{at:.3f}", "-i", str(video),
         "-frames:v", "1", "-update", "1", "-compression_level", "3", str(out)],
        stage="deliver",
    )  # fmt: skip


def replace_dir(staging: Path, final: Path) -> None:
    """Swap ``staging`` into place; an older render there is removed only after the swap."""
    # mkdtemp makes the folder private; a delivered render is as readable as any other output.
    mask = os.umask(0)
    os.umask(mask)
    staging.chmod(0o777 & ~mask)
    if final.exists():
        # A unique name: a leftover from a render killed mid-swap must not block this one.
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        final.rename(old / final.name)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(final)

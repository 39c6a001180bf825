"""Where a render works: a work folder (private, or a job's across attempts, with its stage
checkpoints) and a staging folder beside the destination that appears only by a rename."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.checkpoints import Checkpoints
from pipeline.errors import BadInput

__all__ = ["Workspace", "workspace"]


@dataclass(frozen=True)
class Workspace:
    work: Path  # intermediate files (voice lines, stills, soundtrack, composed videos)
    staging: Path  # the outputs being delivered; renamed to out_root/<sku> when all passed QC
    checkpoints: Checkpoints  # keep=False in a private work folder: every stage is made fresh

    @property
    def persistent(self) -> bool:
        return self.checkpoints.keep


def _staging(out_root: Path, sku: str) -> Path:
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{sku}.", dir=out_root))
    except FileExistsError:
        raise BadInput("--out", f"{out_root} exists and is not a folder") from None
    except OSError as exc:
        raise BadInput("--out", f"cannot write to {out_root}: {exc.strerror}") from None


@contextmanager
def workspace(out_root: Path, sku: str, work_dir: Path | None) -> Iterator[Workspace]:
    """A workspace for one render; the staging folder (and a private work folder) are removed
    on the way out, whatever happened."""
    staging = _staging(out_root, sku)
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        space = Workspace(work_dir, staging, Checkpoints(work_dir))
    else:
        work = Path(tempfile.mkdtemp(prefix="reelforge-"))
        space = Workspace(work, staging, Checkpoints(work, keep=False))
    try:
        yield space
    finally:
        if not space.persistent:
            shutil.rmtree(space.work, ignore_errors=True)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

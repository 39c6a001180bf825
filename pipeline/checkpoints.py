"""Stage checkpoints: a stage's output kept beside a key of everything it was made from.

A render given a persistent work folder (a job's, across attempts) finds a finished stage's
output again and reuses it when the key still matches: the same inputs never produce the same
asset twice. Keys hash the stage's parameters and the bytes of its input files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Checkpoints", "checkpoint_key"]

Made = dict[str, Any] | None

_VERSION = 1  # bump when a stage's output format changes, so old checkpoints are not reused


def checkpoint_key(stage: str, params: Any, files: Sequence[Path] = ()) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([_VERSION, stage, params], sort_keys=True, default=str).encode())
    for path in files:
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


class Checkpoints:
    """Sidecars ``<artifact>.checkpoint.json`` in the work folder, written after the artifact."""

    def __init__(self, work: Path, *, keep: bool = True) -> None:
        """``keep=False``: a private work folder that dies with the render, so nothing is looked
        up or saved (``reuse`` just makes)."""
        self.work = work
        self.keep = keep
        self.reused: list[str] = []

    def reuse(
        self, artifact: Path, key: str, *, label: str, make: Callable[[], Made]
    ) -> dict[str, Any]:
        """The data saved with ``artifact`` when it was made from the same inputs (``key``);
        otherwise ``make()`` writes ``artifact`` and returns its data, and both are kept."""
        if self.keep:
            saved = self.load(artifact, key, label=label)
            if saved is not None:
                return saved
        data = make() or {}
        if self.keep:
            self.save(artifact, key, data)
        return data

    def _sidecar(self, artifact: Path) -> Path:
        return artifact.with_name(artifact.name + ".checkpoint.json")

    def load(self, artifact: Path, key: str, *, label: str) -> dict[str, Any] | None:
        """The data saved with ``artifact`` if it exists and was made from the same inputs."""
        sidecar = self._sidecar(artifact)
        if not artifact.is_file() or not sidecar.is_file():
            return None
        try:
            saved = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("key") != key:
            return None
        self.reused.append(label)
        data = saved.get("data", {})
        return data if isinstance(data, dict) else {}

    def save(self, artifact: Path, key: str, data: dict[str, Any] | None = None) -> None:
        """Mark ``artifact`` finished; the sidecar appears atomically, after the artifact."""
        sidecar = self._sidecar(artifact)
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps({"key": key, "data": data or {}}, default=str), encoding="utf-8")
        os.replace(tmp, sidecar)

"""Moving files between containers through the blob store: each file once, by its content."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from pathlib import Path

from pipeline.storage import BlobStore, validate_key

__all__ = ["fetch_all", "put_once"]


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def put_once(store: BlobStore, path: Path, prefix: str) -> str:
    """``path`` under ``prefix`` by the SHA-256 of its bytes, uploaded only if no file with the
    same bytes is there yet; its key."""
    key = f"{prefix.rstrip('/')}/{_digest(path)}{path.suffix.lower()}"
    if not store.exists(key):
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        store.put(key, path, content_type=kind)
    return key


def fetch_all(store: BlobStore, keys: Mapping[str, str], folder: Path) -> dict[str, Path]:
    """Each key downloaded into ``folder`` once, named by its last segment (a validated key has
    no ``..`` and keys made by :func:`put_once` are unique by content); name → local path."""
    folder.mkdir(parents=True, exist_ok=True)
    local: dict[str, Path] = {}
    for name, key in keys.items():
        target = folder / Path(validate_key(key)).name
        if not target.is_file():
            store.get(key, target)
        local[name] = target
    return local

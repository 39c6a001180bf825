"""Local copies of content-addressed blobs, checked byte for byte: how the API and a worker get
an upload into their own folder, whichever store holds it and whichever machine they run on."""

from __future__ import annotations

from pathlib import Path

from pipeline.storage._files import digest_file
from pipeline.storage.port import BlobStore, StorageError

__all__ = ["local_copy"]


def local_copy(blobs: BlobStore, key: str, dest: Path, *, sha256: str) -> Path:
    """``dest`` holding the blob ``key`` whose bytes hash to ``sha256``: kept if it already does
    (with the local store it is often the blob itself), else fetched and checked. StorageError
    if what the store gives does not match (it is not kept)."""
    if dest.is_file() and digest_file(dest)[1] == sha256:
        return dest
    blobs.get(key, dest)
    if digest_file(dest)[1] != sha256:
        dest.unlink(missing_ok=True)
        raise StorageError("get", key, "the blob's bytes do not match its recorded SHA-256")
    return dest

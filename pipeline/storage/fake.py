"""An in-memory BlobStore for unit tests, holding the same rules as the real stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.storage._files import write_atomically
from pipeline.storage.port import (
    BlobNotFound,
    StorageError,
    StoredBlob,
    validate_content_type,
    validate_expires_in,
    validate_key,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Blobs in a dict; signed URLs are `memory://` links that name the key and lifetime."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, StoredBlob]] = {}

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        validate_key(key)
        validate_content_type(content_type)
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise StorageError("put", key, str(exc)) from exc
        return self.put_bytes(key, data, content_type=content_type)

    def put_bytes(self, key: str, data: bytes, *, content_type: str) -> StoredBlob:
        """Store `data` directly: a shortcut for tests that have no file at hand."""
        validate_key(key)
        validate_content_type(content_type)
        blob = StoredBlob(
            key=key,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=content_type,
        )
        self._blobs[key] = (bytes(data), blob)
        return blob

    def read_bytes(self, key: str) -> bytes:
        return self._entry("get", key)[0]

    def blob(self, key: str) -> StoredBlob:
        return self._entry("get", key)[1]

    def keys(self) -> list[str]:
        return sorted(self._blobs)

    def get(self, key: str, dest: Path) -> Path:
        data = self._entry("get", key)[0]
        write_atomically(dest, [data])
        return dest

    def signed_url(self, key: str, *, expires_in: int) -> str:
        validate_expires_in(expires_in)
        self._entry("sign", key)
        return f"memory://{key}?expires_in={expires_in}"

    def delete(self, key: str) -> None:
        validate_key(key)
        self._blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        validate_key(key)
        return key in self._blobs

    def _entry(self, operation: str, key: str) -> tuple[bytes, StoredBlob]:
        validate_key(key)
        try:
            return self._blobs[key]
        except KeyError:
            raise BlobNotFound(operation, key) from None

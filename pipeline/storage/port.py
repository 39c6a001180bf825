"""The BlobStore port: what every file store offers, its key rules and its errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from pipeline.errors import BadInput, ReelforgeError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "MAX_URL_LIFETIME",
    "BlobNotFound",
    "BlobStore",
    "SignedUpload",
    "SignedUploads",
    "StorageError",
    "StoredBlob",
    "validate_content_type",
    "validate_expires_in",
    "validate_key",
]

MAX_KEY_LENGTH = 512
MAX_SEGMENT_LENGTH = 128
# A week, as S3 presigned URLs: long enough for an ad platform to fetch a render, short enough
# that a leaked link dies.
MAX_URL_LIFETIME = 7 * 24 * 3600

# A segment starts with a letter, digit or underscore, so no key is hidden (".x"), looks like an
# option ("-x") or collides with the local store's ".tmp-*" files.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


class StorageError(ReelforgeError):
    """A storage operation failed."""

    def __init__(
        self,
        operation: str,
        key: str,
        detail: str,
        *,
        status: str | None = None,
        code: str | None = None,
    ) -> None:
        self.operation = operation
        self.key = key
        self.detail = detail
        self.status = status
        self.code = code
        super().__init__(f"storage {operation} of {key!r} failed: {detail}")


class BlobNotFound(StorageError):
    """No blob is stored under the key."""

    def __init__(self, operation: str, key: str, detail: str = "no blob under this key") -> None:
        super().__init__(operation, key, detail, status="404", code="not_found")


class StoredBlob(BaseModel):
    """What a store holds after a put: enough to check a later download byte for byte."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    size: int
    sha256: str
    content_type: str


@runtime_checkable
class BlobStore(Protocol):
    """Files by key. Keys are validated by `validate_key`; a missing key raises `BlobNotFound`."""

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        """Store the file at `source` under `key`, replacing any blob already there."""
        ...

    def get(self, key: str, dest: Path) -> Path:
        """Copy the blob out to `dest` (written atomically) and return `dest`."""
        ...

    def signed_url(self, key: str, *, expires_in: int) -> str:
        """A URL that downloads the blob for `expires_in` seconds without other credentials."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""
        ...


class SignedUpload(BaseModel):
    """Where a browser uploads one object itself: ``url`` (``token`` inside it) for ``path``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    token: str
    path: str


@runtime_checkable
class SignedUploads(Protocol):
    """A store a browser can upload to directly (Supabase Storage); the local folder cannot."""

    def signed_upload(self, key: str) -> SignedUpload:
        """A URL that accepts one upload to `key` without other credentials."""
        ...

    def size(self, key: str) -> int:
        """The stored object's size in bytes, read without downloading it."""
        ...


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative POSIX path, else raise `BadInput`."""
    where = "storage key"
    if not isinstance(key, str):
        raise BadInput(where, f"must be a string, got {type(key).__name__}")
    if not key:
        raise BadInput(where, "is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise BadInput(where, f"is {len(key)} characters long, more than {MAX_KEY_LENGTH}")
    if "\\" in key:
        raise BadInput(where, f"{key!r} contains a backslash; use '/' between segments")
    if key.startswith("/"):
        raise BadInput(where, f"{key!r} is absolute; keys are relative paths")
    for segment in key.split("/"):
        if not segment:
            raise BadInput(where, f"{key!r} has an empty segment")
        if segment in (".", ".."):
            raise BadInput(where, f"{key!r} has a '{segment}' segment")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise BadInput(where, f"{key!r} has a segment longer than {MAX_SEGMENT_LENGTH}")
        if not _SEGMENT.fullmatch(segment):
            raise BadInput(
                where,
                f"{key!r}: segment {segment!r} must start with a letter, digit or '_' and "
                "contain only letters, digits, '.', '_' and '-'",
            )
    return key


def validate_content_type(content_type: str) -> str:
    """Return `content_type` if it is a bare `type/subtype`, else raise `BadInput`."""
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise BadInput("content type", f"{content_type!r} is not a lower-case type/subtype")
    return content_type


def validate_expires_in(expires_in: int) -> int:
    """Return `expires_in` if it is a whole number of seconds within the allowed lifetime."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise BadInput("signed URL lifetime", f"must be whole seconds, got {expires_in!r}")
    if not 0 < expires_in <= MAX_URL_LIFETIME:
        raise BadInput("signed URL lifetime", f"{expires_in} s is outside 1..{MAX_URL_LIFETIME} s")
    return expires_in

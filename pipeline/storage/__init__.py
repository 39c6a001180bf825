"""File storage behind the BlobStore port: a local folder by default, Supabase Storage in production."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pipeline.errors import BadInput
from pipeline.storage.copies import local_copy
from pipeline.storage.fake import MemoryStore
from pipeline.storage.local import LocalFolderStore
from pipeline.storage.port import (
    MAX_KEY_LENGTH,
    MAX_URL_LIFETIME,
    BlobNotFound,
    BlobStore,
    SignedUpload,
    SignedUploads,
    StorageError,
    StoredBlob,
    validate_key,
)

if TYPE_CHECKING:
    from pipeline.storage.supabase import SupabaseStore

__all__ = [
    "DEFAULT_BUCKET",
    "MAX_KEY_LENGTH",
    "MAX_URL_LIFETIME",
    "BlobNotFound",
    "BlobStore",
    "LocalFolderStore",
    "MemoryStore",
    "SignedUpload",
    "SignedUploads",
    "StorageError",
    "StoredBlob",
    "SupabaseStore",
    "local_copy",
    "make_store",
    "validate_key",
]

DEFAULT_BUCKET = "reelforge"


def make_store(
    *,
    local_root: Path,
    url_secret: bytes | None = None,
    base_url: str | None = None,
    supabase_url: str | None = None,
    supabase_service_role_key: str | None = None,
    supabase_bucket: str = DEFAULT_BUCKET,
    http_client: httpx.Client | None = None,
) -> BlobStore:
    """The store the settings ask for: Supabase when its URL and service key are both given,
    else a local folder (which needs `url_secret` to sign download URLs).

    A half-configured Supabase (only one of the two) is an error rather than a silent fallback
    to local files that production would never see.
    """
    url = (supabase_url or "").strip()
    key = (supabase_service_role_key or "").strip()
    if url and key:
        from pipeline.storage.supabase import SupabaseStore, connect_supabase

        client = connect_supabase(url, key, http_client=http_client)
        return SupabaseStore(client, supabase_bucket)
    if url or key:
        missing = "SUPABASE_SERVICE_ROLE_KEY" if url else "SUPABASE_URL"
        raise BadInput("storage settings", f"{missing} is missing; set both or neither")
    if url_secret is None:
        raise BadInput("storage url_secret", "the local store needs a secret to sign URLs")
    return LocalFolderStore(local_root, url_secret=url_secret, base_url=base_url)


def __getattr__(name: str) -> Any:
    # supabase-py takes half a second to import; load it only when the adapter is used.
    if name == "SupabaseStore":
        from pipeline.storage.supabase import SupabaseStore

        return SupabaseStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

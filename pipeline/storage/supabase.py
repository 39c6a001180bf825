"""The production BlobStore: a Supabase Storage bucket reached through supabase-py (storage3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from pipeline.errors import BadInput
from pipeline.storage._files import digest_file, write_atomically
from pipeline.storage.port import (
    BlobNotFound,
    SignedUpload,
    StorageError,
    StoredBlob,
    validate_content_type,
    validate_expires_in,
    validate_key,
)

if TYPE_CHECKING:
    from storage3._sync.file_api import SyncBucketProxy
    from supabase import Client

__all__ = ["DEFAULT_TIMEOUT", "SupabaseStore", "connect_supabase"]

# Renders are tens of megabytes: allow a slow upload, but notice a dead connection quickly.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)

_BUCKET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")


def connect_supabase(
    url: str,
    service_role_key: str,
    *,
    http_client: httpx.Client | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> Client:
    """A server-side supabase-py client that sends every request through one httpx client.

    Passing our own httpx client is the one seam supabase-py 2.34 offers
    (`ClientOptions.httpx_client`); it also avoids the deprecated per-client timeout path.
    Construction makes no request.
    """
    from supabase import ClientOptions, SupabaseException, create_client

    owned = http_client is None
    client = http_client or httpx.Client(timeout=timeout, follow_redirects=True)
    options = ClientOptions(httpx_client=client, auto_refresh_token=False, persist_session=False)
    try:
        return create_client(url, service_role_key, options=options)
    except SupabaseException as exc:
        if owned:
            client.close()
        raise BadInput("Supabase settings", exc.message) from exc


class SupabaseStore:
    """Blobs in one Supabase Storage bucket; uploads upsert, signed URLs are absolute."""

    def __init__(self, client: Client, bucket: str) -> None:
        if not (isinstance(bucket, str) and _BUCKET_NAME.fullmatch(bucket)):
            raise BadInput("storage bucket", f"{bucket!r} is not a bucket name")
        self._client = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        validate_key(key)
        validate_content_type(content_type)
        try:
            size, sha256 = digest_file(source)
        except OSError as exc:
            raise StorageError("put", key, f"cannot read source {source}: {exc}") from exc
        with _translated("put", key):
            # A Path (not an open file) makes storage3 open and close the file itself.
            response = self._files().upload(
                key, source, {"content-type": content_type, "upsert": "true"}
            )
        expected = f"{self._bucket}/{key}"
        if response.full_path != expected:
            raise StorageError(
                "put", key, f"server stored the object as {response.full_path!r}, not {expected!r}"
            )
        return StoredBlob(key=key, size=size, sha256=sha256, content_type=content_type)

    def get(self, key: str, dest: Path) -> Path:
        validate_key(key)
        # storage3 returns the whole body as bytes: fine for ad-sized files.
        with _translated("get", key):
            data = self._files().download(key)
        try:
            write_atomically(dest, [data])
        except OSError as exc:
            raise StorageError("get", key, f"cannot write {dest}: {exc}") from exc
        return dest

    def signed_url(self, key: str, *, expires_in: int) -> str:
        validate_key(key)
        validate_expires_in(expires_in)
        with _translated("sign", key):
            signed = self._files().create_signed_url(key, expires_in)
        url = signed["signedURL"]
        if not url:
            raise StorageError("sign", key, "the server returned no signed URL")
        return url

    def delete(self, key: str) -> None:
        validate_key(key)
        # Storage answers 200 with the removed objects, an empty list when nothing matched.
        with _translated("delete", key):
            self._files().remove([key])

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            with _translated("exists", key):
                self._files().info(key)
        except BlobNotFound:
            return False
        return True

    def signed_upload(self, key: str) -> SignedUpload:
        """A signed upload URL for `key` (Storage's ``POST /object/upload/sign``): a browser
        PUTs the file there, or hands ``token`` to supabase-js ``uploadToSignedUrl``."""
        validate_key(key)
        with _translated("sign upload", key):
            signed = self._files().create_signed_upload_url(key)
        return SignedUpload(url=signed["signed_url"], token=signed["token"], path=signed["path"])

    def size(self, key: str) -> int:
        """The object's size from Storage's ``GET /object/info`` (the file is not fetched)."""
        validate_key(key)
        with _translated("info", key):
            info = self._files().info(key)
            size = info.get("size")
            if size is None:  # older Storage versions keep it in the metadata
                size = info["metadata"]["size"]
            return int(size)

    def _files(self) -> SyncBucketProxy:
        # Looked up per call: supabase-py drops its storage client when the auth state changes.
        return self._client.storage.from_(self._bucket)


@contextmanager
def _translated(operation: str, key: str) -> Iterator[None]:
    """Turn storage3 and httpx failures into `StorageError`s that name the key."""
    try:
        yield
    except StorageApiError as exc:
        raise _from_api_error(operation, key, exc) from exc
    except httpx.TimeoutException as exc:
        raise StorageError(
            operation, key, f"Supabase Storage timed out ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise StorageError(
            operation, key, f"cannot reach Supabase Storage: {type(exc).__name__}: {exc}"
        ) from exc
    except (StorageException, ValueError, KeyError) as exc:
        # A 2xx whose body is not the documented JSON (pydantic errors are ValueErrors).
        raise StorageError(
            operation, key, f"unexpected response from Supabase Storage: {exc}"
        ) from exc


def _from_api_error(operation: str, key: str, exc: StorageApiError) -> StorageError:
    # Storage answers most errors with HTTP 400 and puts the real status in the body's
    # "statusCode"; storage3 keeps that as `status` and the body's "error" as `code`.
    status = str(exc.status)
    code = str(exc.code)
    if status == "404" and code == "not_found":
        return BlobNotFound(operation, key, exc.message)
    return StorageError(
        operation, key, f"{exc.message} (status {status}, {code})", status=status, code=code
    )

"""The blob store as a container without secrets reaches it: the API's ``/v1/files`` routes,
with a storage grant (``pipeline.storage.grant``) instead of a storage key."""

from __future__ import annotations

from pathlib import Path

import httpx

from pipeline.storage._files import iter_file, write_atomically
from pipeline.storage.port import BlobNotFound, StorageError, StoredBlob, validate_key

__all__ = ["GRANT_HEADER", "GrantedStore"]

GRANT_HEADER = "X-Reelforge-Grant"
_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class GrantedStore:
    """A BlobStore over HTTP: reads and writes what the grant covers, nothing else (it cannot
    delete or sign links)."""

    def __init__(self, api_url: str, grant: str, *, client: httpx.Client | None = None) -> None:
        """``api_url``: the service's public base URL (``REELFORGE_PUBLIC_URL``)."""
        self._base = api_url.rstrip("/") + "/v1/files/"
        self._headers = {GRANT_HEADER: grant}
        # Reads of Supabase Storage are redirected to a signed URL of the object.
        self._client = client or httpx.Client(timeout=_TIMEOUT, follow_redirects=True)

    def _check(self, response: httpx.Response, operation: str, key: str) -> None:
        if response.status_code == 404:
            raise BlobNotFound(operation, key)
        if response.status_code >= 400:
            raise StorageError(
                operation, key, f"the API answered {response.status_code}: {response.text[:200]}",
                status=str(response.status_code),
            )  # fmt: skip

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        validate_key(key)
        headers = self._headers | {"Content-Type": content_type}
        try:
            response = self._client.put(self._base + key, content=iter_file(source), headers=headers)
        except httpx.HTTPError as exc:
            raise StorageError("put", key, f"network error ({type(exc).__name__})") from exc
        self._check(response, "put", key)
        return StoredBlob.model_validate(response.json())

    def get(self, key: str, dest: Path) -> Path:
        validate_key(key)
        try:
            with self._client.stream("GET", self._base + key, headers=self._headers) as response:
                if response.status_code >= 400:
                    response.read()
                self._check(response, "get", key)
                write_atomically(dest, response.iter_bytes())
        except httpx.HTTPError as exc:
            raise StorageError("get", key, f"network error ({type(exc).__name__})") from exc
        return dest

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            response = self._client.head(self._base + key, headers=self._headers)
        except httpx.HTTPError as exc:
            raise StorageError("exists", key, f"network error ({type(exc).__name__})") from exc
        if response.status_code == 404:
            return False
        self._check(response, "exists", key)
        return True

    def signed_url(self, key: str, *, expires_in: int) -> str:
        raise StorageError("sign", key, "a storage grant cannot sign download links")

    def delete(self, key: str) -> None:
        raise StorageError("delete", key, "a storage grant cannot delete")

    def close(self) -> None:
        self._client.close()

"""The default BlobStore: a folder on disk, with HMAC-signed download URLs for the local API."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from pipeline.errors import BadInput
from pipeline.storage._files import iter_file, write_atomically
from pipeline.storage.port import (
    BlobNotFound,
    StorageError,
    StoredBlob,
    validate_content_type,
    validate_expires_in,
    validate_key,
)

__all__ = ["MIN_SECRET_BYTES", "LocalFolderStore"]

MIN_SECRET_BYTES = 16


class LocalFolderStore:
    """Blobs as files under `root`; keys map to relative paths and can never leave it."""

    def __init__(
        self,
        root: Path,
        *,
        url_secret: bytes,
        base_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(url_secret, bytes) or len(url_secret) < MIN_SECRET_BYTES:
            raise BadInput("storage url_secret", f"must be at least {MIN_SECRET_BYTES} bytes")
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise BadInput("storage base_url", f"{base_url!r} is not an http(s) URL")
        self._root = Path(root).resolve()
        self._secret = url_secret
        self._base_url = base_url.rstrip("/") if base_url is not None else None
        self._clock = clock

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        """The file that holds `key`; raises `BadInput` for a bad key or one leaving the root."""
        validate_key(key)
        # resolve() follows symlinks, so a link planted inside the root cannot lead outside it.
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):
            raise BadInput("storage key", f"{key!r} resolves outside the store root")
        return path

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        validate_content_type(content_type)
        target = self.path_for(key)
        if not source.is_file():
            raise StorageError("put", key, f"source {source} is not a file")
        try:
            size, sha256 = write_atomically(target, iter_file(source))
        except OSError as exc:
            raise StorageError("put", key, str(exc)) from exc
        return StoredBlob(key=key, size=size, sha256=sha256, content_type=content_type)

    def get(self, key: str, dest: Path) -> Path:
        path = self.path_for(key)
        if not path.is_file():
            raise BlobNotFound("get", key)
        try:
            write_atomically(dest, iter_file(path))
        except FileNotFoundError as exc:
            # Deleted between the check and the copy.
            raise BlobNotFound("get", key) from exc
        except OSError as exc:
            raise StorageError("get", key, str(exc)) from exc
        return dest

    def signed_url(self, key: str, *, expires_in: int) -> str:
        validate_expires_in(expires_in)
        path = self.path_for(key)
        if not path.is_file():
            raise BlobNotFound("sign", key)
        if self._base_url is None:
            return path.as_uri()
        expires = int(self._clock()) + expires_in
        query = urlencode({"expires": expires, "signature": self._sign(key, expires)})
        return f"{self._base_url}/files/{quote(key, safe='/')}?{query}"

    def verify_signed(
        self, key: str, expires: int | str, signature: str, *, now: float | None = None
    ) -> bool:
        """Whether a URL made by `signed_url` for `key` is authentic and not yet expired."""
        try:
            validate_key(key)
        except BadInput:
            return False
        if isinstance(expires, str):
            if not (expires.isascii() and expires.isdigit()):
                return False
            expires = int(expires)
        current = self._clock() if now is None else now
        if current >= expires:
            return False
        expected = self._sign(key, expires).encode()
        return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))

    def delete(self, key: str) -> None:
        path = self.path_for(key)
        if not path.is_file():
            return
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError("delete", key, str(exc)) from exc

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def _sign(self, key: str, expires: int) -> str:
        # Keys never contain a newline, so "key\nexpires" cannot be forged from another pair.
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

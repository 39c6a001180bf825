"""A content-addressed cache of generated assets, so the same asset is never paid for twice.

The key is a hash of everything that determines the asset: provider, model, prompt, parameters,
seed and the bytes of every input (a reference photo, a voice line). The same clip for the same
SKU is therefore found again by any job of any project that asks the same question.

Layout under ``root``: ``<k[:2]>/<k>.<ext>`` holds the asset (``<k>.asset.json`` for a JSON
asset) and ``<k[:2]>/<k>.json`` what made it (written last, so an entry exists only once both
are complete). ``claim(key)`` holds an exclusive lock per key across threads and processes
(``fcntl.flock``), so two jobs asking for the same asset at once make one call: the second
finds the first's result when it gets the lock.

With a ``shared`` blob store (containers that see no common disk: Modal), the folder is this
container's copy and the blob store holds every entry under ``cache/providers/``: a miss here is
looked up there, and what is put here is put there too (the asset first, the record last).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from pipeline.storage import BlobNotFound, BlobStore

__all__ = ["SHARED_PREFIX", "CachedAsset", "ProviderCache", "cache_key"]

SHARED_PREFIX = "cache/providers/"

_CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(
    provider: str,
    model: str,
    *,
    prompt: str = "",
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    inputs: Sequence[Path | bytes] = (),
) -> str:
    """The asset's address: sha256 over a canonical JSON of the question and its input hashes."""
    hashes = [
        hashlib.sha256(i).hexdigest() if isinstance(i, bytes) else _file_digest(i) for i in inputs
    ]
    canonical = json.dumps(
        {
            "provider": provider,
            "model": model,
            "prompt": prompt,
            "params": dict(params or {}),
            "seed": seed,
            "inputs": hashes,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CachedAsset(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    path: Path
    provider: str
    model: str
    meta: dict[str, Any]


class ProviderCache:
    def __init__(self, root: Path, *, shared: BlobStore | None = None) -> None:
        self.root = root
        self.shared = shared

    def _dir(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2]

    def get(self, key: str) -> CachedAsset | None:
        """The complete entry for ``key`` (fetched from the shared store if only it has it), or
        None."""
        found = self._local(key)
        if found is None and self.shared is not None and self._fetch(key):
            found = self._local(key)
        return found

    def _fetch(self, key: str) -> bool:
        """Copies the shared entry for ``key`` here (asset first, record last); False if none."""
        assert self.shared is not None
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        record = folder / f".{key}.json.part"
        try:
            self.shared.get(f"{SHARED_PREFIX}{key}.json", record)
            name = str(json.loads(record.read_text(encoding="utf-8"))["file"])
            self.shared.get(f"{SHARED_PREFIX}{name}", folder / name)
        except (BlobNotFound, ValueError, KeyError):
            record.unlink(missing_ok=True)
            return False
        os.replace(record, folder / f"{key}.json")
        return True

    def _local(self, key: str) -> CachedAsset | None:
        meta_path = self._dir(key) / f"{key}.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        path = self._dir(key) / str(meta.get("file", ""))
        if not path.is_file():
            return None
        return CachedAsset(
            key=key,
            path=path,
            provider=str(meta.get("provider", "")),
            model=str(meta.get("model", "")),
            meta=dict(meta.get("meta") or {}),
        )

    def put(
        self,
        key: str,
        source: Path,
        *,
        provider: str,
        model: str,
        meta: Mapping[str, Any] | None = None,
    ) -> CachedAsset:
        """Copies ``source`` into the cache (atomically) and returns the entry."""
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = source.suffix.lower()
        # <k>.json is the record of what made the asset: a JSON asset must not overwrite it.
        name = f"{key}.asset.json" if suffix == ".json" else f"{key}{suffix}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key[:8]}.", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, folder / name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        record = {"file": name, "provider": provider, "model": model, "meta": dict(meta or {})}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key[:8]}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, default=str)
        os.replace(tmp, folder / f"{key}.json")
        if self.shared is not None:
            types = {".json": "application/json", ".mp4": "video/mp4", ".png": "image/png"}
            kind = types.get(suffix, "application/octet-stream")
            self.shared.put(f"{SHARED_PREFIX}{name}", folder / name, content_type=kind)
            self.shared.put(
                f"{SHARED_PREFIX}{key}.json", folder / f"{key}.json", content_type="application/json"
            )
        found = self._local(key)
        assert found is not None
        return found

    def _lock(self, key: str) -> IO[str]:
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / f".{key}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # per open file: excludes threads and processes
        except BaseException:
            handle.close()
            raise
        return handle

    @staticmethod
    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Exclusive right to make the asset for ``key``, across threads and processes."""
        handle = self._lock(key)
        try:
            yield
        finally:
            self._unlock(handle)

    @contextlib.asynccontextmanager
    async def aclaim(self, key: str) -> AsyncIterator[None]:
        """:meth:`claim` for coroutines: waits for the lock in a thread, not on the event loop."""
        handle = await asyncio.to_thread(self._lock, key)
        try:
            yield
        finally:
            self._unlock(handle)

"""A content-addressed cache of generated assets, so the same asset is never paid for twice.

The key is a hash of everything that determines the asset: provider, model, prompt, parameters,
seed and the bytes of every input (a reference photo, a voice line). The same clip for the same
SKU is therefore found again by any job of any project that asks the same question.

Layout under ``root``: ``<k[:2]>/<k>.<ext>`` holds the asset (``<k>.asset.json`` for a JSON
asset) and ``<k[:2]>/<k>.json`` what made it (written last, so an entry exists only once both
are complete).

With a ``shared`` blob store (containers that see no common disk: Modal), the folder is this
container's copy and the blob store holds every entry under ``cache/providers/``: a miss here is
looked up there, and what is put here is put there too (the asset first, the record last).

``aclaim(key)`` makes two jobs asking for the same asset at once pay for it once: it takes the
key's generation claim (``claims``: the database's, shared by every container, or a file lock
per key on one machine) or waits until the holder's asset is in the cache
(``pipeline.providers.claimant``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline.claims import GenerationClaims
from pipeline.providers.claimant import ClaimPolicy, claimed
from pipeline.providers.local_claims import LocalClaims
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
    """``claims``: where generations are claimed (a file lock per key under ``root`` by
    default: one machine only); ``owner`` labels this cache's claims (a job) in the record;
    ``policy``: leases and waiting (:class:`pipeline.providers.claimant.ClaimPolicy`)."""

    def __init__(
        self,
        root: Path,
        *,
        shared: BlobStore | None = None,
        claims: GenerationClaims | None = None,
        owner: str = "reelforge",
        policy: ClaimPolicy | None = None,
    ) -> None:
        self.root = root
        self.shared = shared
        self.claims: GenerationClaims = claims or LocalClaims(root)
        self.owner = owner
        self.policy = policy or ClaimPolicy()

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
        # a name of its own: two scenes of a job may fetch the same entry at once
        fd, part = tempfile.mkstemp(dir=folder, prefix=f".{key[:8]}.", suffix=".json.part")
        os.close(fd)
        record = Path(part)
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

    @contextlib.asynccontextmanager
    async def aclaim(self, key: str, *, provider: str) -> AsyncIterator[bool]:
        """The right to generate the asset for ``key`` and pay ``provider`` for it, once among
        every job sharing the claims: yields True while this job holds the claim (it generates
        and puts the asset here before the block ends; the claim is released as failed if the
        block raises), False when another job's asset is here instead (read it with ``get``)."""
        self._dir(key)  # a malformed key fails before anything is claimed
        owner = f"{self.owner[:150]}:{uuid.uuid4().hex}"
        async with claimed(
            self.claims, key, owner=owner, provider=provider,
            found=lambda: self.get(key) is not None, policy=self.policy,
        ) as held:  # fmt: skip
            yield held

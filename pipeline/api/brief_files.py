"""A brief's files as one user's API requests name them: ``upload:<id>`` of a ready upload of
theirs, or (local development) a file name in their uploads folder. Resolved to the stored
upload (its blob key and SHA-256) or to a checked local copy of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from uuid import UUID

from pipeline.api.upload_models import REF_PREFIX
from pipeline.errors import BriefError
from pipeline.settings import Settings
from pipeline.storage import BlobStore, local_copy
from pipeline.store import Repositories
from pipeline.uploads import UploadKind, kind_family

__all__ = ["BriefFiles", "StoredFile", "field_kind", "parse_ref"]


def field_kind(where: str) -> UploadKind:
    """The upload kind a brief's file field takes."""
    if where.startswith("product.photos"):
        return "photo"
    kinds: dict[str, UploadKind] = {"brand.logo": "logo", "brand.font": "font", "music": "music"}
    return kinds.get(where, "voice_over")


def parse_ref(where: str, value: Path | str) -> UUID | None:
    """The upload id a brief's file field names (``upload:<id>``), or None for a file name."""
    text = value.as_posix() if isinstance(value, Path) else value
    if not text.startswith(REF_PREFIX):
        return None
    try:
        return UUID(text.removeprefix(REF_PREFIX))
    except ValueError:
        raise BriefError(where, f"{text!r} is not an upload reference (upload:<id>)") from None


@dataclass(frozen=True)
class StoredFile:
    """Where an upload's bytes are in the blob store, and what they hash to."""

    key: str
    sha256: str


class BriefFiles:
    """Resolves a brief's file fields for one user: ``upload:<id>`` to a checked local copy of
    the upload in the user's uploads folder, anything else to a file already in that folder
    (local development). ``keys``: each upload's path under the user's folder (as a job
    payload names it) → its blob key, for the worker to fetch."""

    def __init__(
        self, *, repos: Repositories, blobs: BlobStore, settings: Settings, user_id: UUID
    ) -> None:
        self._repos, self._blobs, self.user_id = repos, blobs, user_id
        self.folder = settings.uploads(user_id)
        self.keys: dict[str, str] = {}

    def stored(self, where: str, name: Path) -> StoredFile | None:
        """The user's ready upload that ``name`` names, if it is a file for ``where``; None for
        a plain file name; BriefError naming ``where`` otherwise. Nothing is fetched."""
        upload_id = parse_ref(where, name)
        if upload_id is None:
            return None
        upload = self._repos.uploads.get(user_id=self.user_id, upload_id=upload_id)
        if upload is None or upload.state != "ready" or upload.sha256 is None:
            raise BriefError(where, f"no upload {upload_id}")
        if kind_family(upload.kind) != kind_family(field_kind(where)):
            raise BriefError(
                where, f"upload {upload_id} is a {upload.kind}, not a file for this field"
            )
        return StoredFile(upload.key, upload.sha256)

    def __call__(self, where: str, name: Path) -> Path:
        stored = self.stored(where, name)
        if stored is None:
            return _in_folder(self.folder, where, name)
        dest = self.folder / PurePosixPath(stored.key).name
        local_copy(self._blobs, stored.key, dest, sha256=stored.sha256)
        self.keys[f"uploads/{dest.name}"] = stored.key
        return dest.resolve()


def _in_folder(uploads: Path, where: str, name: Path) -> Path:
    # Only names inside the user's own folder: no absolute paths, no '..', no symlinks out.
    if name.is_absolute() or ".." in name.parts or not name.parts:
        raise BriefError(
            where, "must be upload:<id>, or a file name relative to your uploads folder"
        )
    root = uploads.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise BriefError(
            where, "must be upload:<id>, or a file name relative to your uploads folder"
        )
    if not path.is_file():
        raise BriefError(where, f"no uploaded file named {name.as_posix()!r}")
    if path.stat().st_size == 0:
        raise BriefError(where, f"uploaded file {name.as_posix()!r} is empty")
    return path

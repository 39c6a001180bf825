"""Uploads over the API: a file received, checked as what its kind must be (the same limits a
brief's files get), stored content-addressed per user in the blob store
(``<user>/uploads/<sha256>.<ext>``) and recorded; listed and deleted; and the https URLs a
brief names fetched into uploads. (A brief's ``upload:<id>`` is resolved in ``brief_files``.)

Nothing of a refused file is kept: it is checked (by the media desk, ``pipeline.api.media_desk``)
from a private temporary folder before the blob store or the database hear of it."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final
from uuid import UUID

from starlette.exceptions import HTTPException

from pipeline.api.brief_files import field_kind
from pipeline.api.cursor import decode_job_cursor, encode_cursor
from pipeline.api.errors import ContentTooLarge
from pipeline.api.media_desk import MediaDesk
from pipeline.api.upload_models import (
    REF_PREFIX,
    Deleted,
    SignedUploadOut,
    UploadOut,
    UploadPage,
)
from pipeline.brief import file_refs
from pipeline.download import https_url
from pipeline.errors import BadInput
from pipeline.settings import Settings
from pipeline.storage import BlobNotFound, BlobStore, SignedUploads
from pipeline.store import NotFound, Repositories
from pipeline.store.models import Upload
from pipeline.uploads import safe_name

__all__ = [
    "CHUNK",
    "begin_signed",
    "complete_signed",
    "delete_upload",
    "fetch_urls",
    "forget",
    "list_uploads",
    "receive",
    "scratch",
    "store_checked",
    "upload_file",
]

CHUNK: Final = 1 << 20
_URL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


@contextmanager
def scratch() -> Iterator[Path]:
    """A private temporary file path for a received file, gone (with its folder) afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="reelforge-upload-"))
    try:
        yield folder / "received"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def receive(source: BinaryIO, dest: Path, *, cap: int, field: str = "file") -> None:
    """Copies ``source`` to ``dest``; ContentTooLarge (413, naming ``field``) past ``cap``."""
    written = 0
    with dest.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > cap:
                raise ContentTooLarge(field, f"is larger than {cap} bytes, the cap for this kind")
            out.write(chunk)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


@dataclass(frozen=True)
class _Stored:
    key: str
    sha256: str
    size: int
    content_type: str


def _check_and_put(
    blobs: BlobStore, desk: MediaDesk, user_id: UUID, kind: str, path: Path, name: str | None,
    field: str,
) -> _Stored:  # fmt: skip
    """The file checked as ``kind`` by the media desk (BadInput naming ``field`` before
    anything is stored), then put under its content address unless already there."""
    checked = desk.check(path, kind, name=name, field=field)
    sha256 = _digest(path)
    key = f"{user_id}/uploads/{sha256}{checked.extension}"
    if not blobs.exists(key):
        blobs.put(key, path, content_type=checked.content_type)
    return _Stored(key, sha256, path.stat().st_size, checked.content_type)


def store_checked(
    *,
    repos: Repositories,
    blobs: BlobStore,
    desk: MediaDesk,
    user_id: UUID,
    kind: str,
    path: Path,
    name: str | None,
    field: str = "file",
    name_is_claim: bool = True,
) -> Upload:
    """The file at ``path`` checked, stored by its content and recorded; the same bytes of the
    same kind give the upload recorded before. ``name_is_claim``: the name's suffix must agree
    with the bytes (a user's file name; not a URL's, which servers negotiate)."""
    shown = safe_name(name)
    claim = shown if name_is_claim else None
    stored = _check_and_put(blobs, desk, user_id, kind, path, claim, field)
    return repos.uploads.record(
        user_id=user_id, kind=kind, key=stored.key, sha256=stored.sha256, size=stored.size,
        content_type=stored.content_type, original_name=shown,
    )  # fmt: skip


def upload_file(
    *,
    repos: Repositories,
    blobs: BlobStore,
    desk: MediaDesk,
    settings: Settings,
    user_id: UUID,
    kind: str,
    source: BinaryIO,
    name: str | None,
) -> UploadOut:
    """A multipart upload: received under its kind's cap, checked, stored, recorded."""
    with scratch() as path:
        receive(source, path, cap=settings.upload_limits.cap(kind))
        upload = store_checked(
            repos=repos, blobs=blobs, desk=desk, user_id=user_id, kind=kind, path=path, name=name
        )
    return UploadOut.of(upload)


def list_uploads(
    *, repos: Repositories, user_id: UUID, cursor: str | None, limit: int
) -> UploadPage:
    """Up to ``limit`` ready uploads, newest first, after ``cursor``."""
    before = decode_job_cursor(cursor) if cursor is not None else None
    rows = repos.uploads.page(user_id=user_id, before=before, limit=limit + 1)
    items = [UploadOut.of(r) for r in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return UploadPage(
        items=items,
        next_cursor=encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None,
    )


def forget(*, repos: Repositories, blobs: BlobStore, settings: Settings, user_id: UUID,
           upload_id: UUID) -> bool:  # fmt: skip
    """Deletes the upload's row, then its blob and this machine's copy unless another upload of
    the user names the same bytes; False if there was no such upload."""
    gone = repos.uploads.delete(user_id=user_id, upload_id=upload_id)
    if gone is None:
        return False
    if not gone.key_in_use:
        blobs.delete(gone.upload.key)
        (settings.uploads(user_id) / PurePosixPath(gone.upload.key).name).unlink(missing_ok=True)
    return True


def delete_upload(
    *, repos: Repositories, blobs: BlobStore, settings: Settings, user_id: UUID, upload_id: UUID
) -> Deleted:
    """Deletes the user's upload; 409 while a project's brief still names it (a job of that
    project would fail for want of it), 404 if it is not theirs."""
    ref = f"{REF_PREFIX}{upload_id}"
    if repos.uploads.get(user_id=user_id, upload_id=upload_id) is None:
        raise NotFound("upload", "no such upload")
    users = repos.projects.using(user_id=user_id, ref=ref)
    if users:
        raise HTTPException(
            409,
            f"project {users[0]} still uses this upload: delete the project or change its brief",
        )
    if not forget(
        repos=repos, blobs=blobs, settings=settings, user_id=user_id, upload_id=upload_id
    ):
        raise NotFound("upload", "no such upload")
    return Deleted(id=upload_id)


def _fetch_one(
    url: str, where: str, *, repos: Repositories, blobs: BlobStore, desk: MediaDesk,
    settings: Settings, user_id: UUID,
) -> Upload:  # fmt: skip
    """One https URL of a brief fetched by the media desk (SSRF-safe, under its kind's cap)
    and stored as an upload, checked like any other; errors name the brief field."""
    parsed = https_url(url, where)  # refused here already: nothing to hand out
    kind = field_kind(where)
    folder = Path(tempfile.mkdtemp(prefix="reelforge-fetch-"))
    try:
        path = desk.fetch(url, folder, field=where, max_bytes=settings.upload_limits.cap(kind))
        return store_checked(
            repos=repos, blobs=blobs, desk=desk, user_id=user_id, kind=kind, path=path,
            name=PurePosixPath(parsed.path).name or None, field=where, name_is_claim=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fetch_urls(
    data: Any, *, repos: Repositories, blobs: BlobStore, desk: MediaDesk, settings: Settings,
    user_id: UUID,
) -> Any:  # fmt: skip
    """Raw brief data with each https URL in a file field replaced by ``upload:<id>`` of its
    download, recorded as the user's upload; ``data`` itself is not changed, and without URLs
    it is returned as it is."""
    if not isinstance(data, dict):
        return data
    if not any(_URL.match(str(box[key])) for _, box, key in file_refs(data)):
        return data
    out = copy.deepcopy(data)
    for where, box, key in file_refs(out):
        value = box[key]
        if isinstance(value, str) and _URL.match(value.strip()):
            upload = _fetch_one(
                value.strip(), where, repos=repos, blobs=blobs, desk=desk, settings=settings,
                user_id=user_id,
            )  # fmt: skip
            box[key] = f"{REF_PREFIX}{upload.id}"
    return out


_NO_SIGNED = (
    "signed uploads need Supabase Storage (SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY); "
    "send the file to POST /v1/uploads instead"
)


def begin_signed(
    *, repos: Repositories, blobs: BlobStore, settings: Settings, user_id: UUID, kind: str,
    name: str | None,
) -> SignedUploadOut:  # fmt: skip
    """A pending upload and a signed URL for the browser to PUT the file to, at a staging key
    in the user's folder; nothing counts until it is completed (and checked)."""
    if not isinstance(blobs, SignedUploads):
        raise HTTPException(501, _NO_SIGNED)
    staging = f"{user_id}/staging/{uuid.uuid4()}"
    pending = repos.uploads.create_pending(
        user_id=user_id, kind=kind, key=staging, original_name=safe_name(name)
    )
    try:
        signed = blobs.signed_upload(staging)
    except BaseException:
        repos.uploads.delete(user_id=user_id, upload_id=pending.id)
        raise
    return SignedUploadOut(
        id=pending.id, kind=kind, url=signed.url, token=signed.token,
        path=signed.path, max_bytes=settings.upload_limits.cap(kind),
        complete_url=f"/v1/uploads/{pending.id}/complete",
    )  # fmt: skip


def complete_signed(
    *, repos: Repositories, blobs: BlobStore, desk: MediaDesk, settings: Settings, user_id: UUID,
    upload_id: UUID,
) -> UploadOut:  # fmt: skip
    """The browser's upload checked exactly as a direct one, moved to its content address and
    recorded; a refused file is removed with its pending upload, so nothing of it stays.
    Completing again returns the upload."""
    upload = repos.uploads.get(user_id=user_id, upload_id=upload_id)
    if upload is None:
        raise NotFound("upload", "no such upload")
    if upload.state == "ready":
        return UploadOut.of(upload)
    if not isinstance(blobs, SignedUploads):
        raise HTTPException(501, _NO_SIGNED)
    cap = settings.upload_limits.cap(upload.kind)
    try:
        size = blobs.size(upload.key)
    except BlobNotFound:
        raise BadInput("file", "nothing was uploaded to the signed URL yet") from None
    try:
        with scratch() as path:
            too_big = ContentTooLarge("file", f"is larger than {cap} bytes, the cap for this kind")
            if size > cap:
                raise too_big
            blobs.get(upload.key, path)
            if path.stat().st_size > cap:  # grown since it was measured
                raise too_big
            stored = _check_and_put(
                blobs, desk, user_id, upload.kind, path, upload.original_name, "file"
            )
    except BadInput:
        repos.uploads.delete(user_id=user_id, upload_id=upload_id)
        raise
    finally:
        blobs.delete(upload.key)
    done = repos.uploads.complete(
        user_id=user_id, upload_id=upload_id, key=stored.key, sha256=stored.sha256,
        size=stored.size, content_type=stored.content_type,
    )  # fmt: skip
    if done is None:
        raise NotFound("upload", "no such pending upload")
    return UploadOut.of(done)

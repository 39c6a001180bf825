"""Uploads: send a photo, logo, font, music or voice-over (multipart), list, delete; and, with
Supabase Storage, signed URLs for a browser to upload to directly, then complete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from pipeline.api import uploads
from pipeline.api.deps import BlobsDep, CurrentUser, MediaDeskDep, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.upload_models import (
    Deleted,
    SignedUploadIn,
    SignedUploadOut,
    UploadKindName,
    UploadOut,
    UploadPage,
)

router = APIRouter(prefix="/v1/uploads", tags=["uploads"], responses=problem_responses(401))

_CHECKS = (
    "The content must be what the kind needs, whatever the file is called: photos and logos "
    "PNG, JPEG, WebP, TIFF, BMP or GIF of at most 40 megapixels (decoded in full); fonts .ttf "
    "or .otf with basic Latin; music and voice-overs one WAV, MP3, M4A, AAC, FLAC or Ogg file "
    "(playlists such as HLS, concat lists or SDP are refused, whatever their name). A name "
    "whose suffix contradicts the content is refused. Each kind has a size cap "
    "(`REELFORGE_UPLOAD_MAX_<KIND>_BYTES`). The same bytes uploaded again as the same kind "
    "return the same upload. A refused file leaves nothing stored."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file (multipart/form-data: kind, file)",
    description=_CHECKS + " Name it in a brief as its `ref` (`upload:<id>`).",
    responses=problem_responses(400, 413, 422),
)
def create_upload(
    kind: Annotated[UploadKindName, Form(description="photo, logo, font, music or voice_over")],
    file: Annotated[UploadFile, File(description="the file's bytes")],
    user: CurrentUser,
    repos: ReposDep,
    blobs: BlobsDep,
    desk: MediaDeskDep,
    settings: SettingsDep,
) -> UploadOut:
    return uploads.upload_file(
        repos=repos, blobs=blobs, desk=desk, settings=settings, user_id=user, kind=kind,
        source=file.file, name=file.filename,
    )  # fmt: skip


@router.post(
    "/signed",
    status_code=status.HTTP_201_CREATED,
    summary="Begin a browser upload straight to storage (Supabase Storage only)",
    description=(
        "Returns a signed URL: PUT the file's bytes to it (or give `path` and `token` to "
        "supabase-js `uploadToSignedUrl`), then POST `complete_url`, which checks the file "
        "exactly as POST /v1/uploads does. 501 when the API stores files locally."
    ),
    responses=problem_responses(400, 413, 422, 501),
)
def begin_signed_upload(
    body: SignedUploadIn, user: CurrentUser, repos: ReposDep, blobs: BlobsDep, settings: SettingsDep
) -> SignedUploadOut:
    return uploads.begin_signed(
        repos=repos, blobs=blobs, settings=settings, user_id=user, kind=body.kind, name=body.name
    )


@router.post(
    "/{upload_id}/complete",
    summary="Complete a browser upload: check the file and record it",
    description=(
        _CHECKS + " A refused file is deleted from storage with its pending upload; begin "
        "again. The upload of the same bytes, if you had one, is returned instead."
    ),
    responses=problem_responses(404, 413, 422, 501),
)
def complete_signed_upload(
    upload_id: UUID, user: CurrentUser, repos: ReposDep, blobs: BlobsDep, desk: MediaDeskDep,
    settings: SettingsDep,
) -> UploadOut:  # fmt: skip
    return uploads.complete_signed(
        repos=repos, blobs=blobs, desk=desk, settings=settings, user_id=user, upload_id=upload_id
    )


@router.get("", summary="List uploads, newest first", responses=problem_responses(422))
def list_uploads(
    user: CurrentUser,
    repos: ReposDep,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> UploadPage:
    return uploads.list_uploads(repos=repos, user_id=user, cursor=cursor, limit=limit)


@router.delete(
    "/{upload_id:uuid}",  # not "signed": a GET there is a 405, not an invalid id
    summary="Delete an upload",
    description="Refused (409) while a project's brief names it.",
    responses=problem_responses(404, 409, 422),
)
def delete_upload(
    upload_id: UUID, user: CurrentUser, repos: ReposDep, blobs: BlobsDep, settings: SettingsDep
) -> Deleted:
    return uploads.delete_upload(
        repos=repos, blobs=blobs, settings=settings, user_id=user, upload_id=upload_id
    )

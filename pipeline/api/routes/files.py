"""Files in the blob store, reached by a signed link or with a storage grant.

- ``GET /v1/files/{key}?expires=…&signature=…``: a download link the API handed out (local store).
- ``GET``, ``HEAD`` and ``PUT /v1/files/{key}`` with ``X-Reelforge-Grant: <token>``: a container
  without secrets (a render, a scene, a composition) reads and writes the keys its grant covers.
  With Supabase Storage, a read is redirected to a short-lived signed URL of the object.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.exceptions import HTTPException

from pipeline.api.deps import BlobsDep, GrantHeader, SettingsDep, storage_grant
from pipeline.errors import BadInput
from pipeline.storage import BlobStore, LocalFolderStore, StorageError
from pipeline.storage.granted import GRANT_HEADER
from pipeline.storage.port import validate_content_type

__all__ = ["GRANT_HEADER", "MAX_PUT_BYTES", "router"]

MAX_PUT_BYTES = 2 * 1024**3  # a composed 60 s 4K-ish output is far below this
_REDIRECT_SECONDS = 300
_GONE = "no such file, or the link expired"

# Not API operations: the links and grants are handed out by the service itself.
router = APIRouter(prefix="/v1/files", include_in_schema=False)


def _allowed(check: bool) -> None:
    if not check:
        raise HTTPException(403, "the storage grant does not cover this key")


def _send(blobs: BlobStore, key: str) -> Response:
    """The blob: the file itself from the local store, else a redirect to a signed URL."""
    if isinstance(blobs, LocalFolderStore):
        path = blobs.path_for(key)
        if not path.is_file():
            raise HTTPException(404, _GONE)
        return FileResponse(path)
    try:
        return RedirectResponse(blobs.signed_url(key, expires_in=_REDIRECT_SECONDS), 307)
    except StorageError:
        raise HTTPException(404, _GONE) from None


@router.get("/{key:path}")
def read(
    key: str,
    blobs: BlobsDep,
    settings: SettingsDep,
    grant: GrantHeader = None,
    expires: Annotated[str | None, Query()] = None,
    signature: Annotated[str | None, Query()] = None,
) -> Response:
    if grant is not None:
        _allowed(storage_grant(grant, settings).can_read(key))
    elif not (
        isinstance(blobs, LocalFolderStore)
        and blobs.verify_signed(key, expires or "", signature or "")
    ):
        raise HTTPException(404, _GONE)
    return _send(blobs, key)


@router.head("/{key:path}")
def exists(key: str, blobs: BlobsDep, settings: SettingsDep, grant: GrantHeader = None) -> Response:
    _allowed(storage_grant(grant, settings).can_read(key))
    return Response(status_code=200 if blobs.exists(key) else 404)


@router.put("/{key:path}", status_code=201)
async def write(
    key: str, request: Request, blobs: BlobsDep, settings: SettingsDep, grant: GrantHeader = None
) -> dict[str, object]:
    _allowed(storage_grant(grant, settings).can_write(key))
    content_type = request.headers.get("content-type", "application/octet-stream")
    media_type = content_type.split(";")[0].strip()
    try:
        validate_content_type(media_type)
    except BadInput:
        raise HTTPException(415, f"unsupported content type {content_type!r}") from None
    with tempfile.TemporaryDirectory(prefix="reelforge-put-") as scratch:
        body = Path(scratch) / "body"
        size = 0
        with body.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_PUT_BYTES:
                    raise HTTPException(413, f"larger than {MAX_PUT_BYTES} bytes")
                out.write(chunk)
        stored = await anyio.to_thread.run_sync(
            lambda: blobs.put(key, body, content_type=media_type)
        )
    return stored.model_dump()

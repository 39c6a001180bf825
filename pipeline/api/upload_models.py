"""Request and response bodies of uploads, project listings and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pipeline.store.models import ApiKey, Upload

__all__ = [
    "REF_PREFIX",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyList",
    "ApiKeyOut",
    "ApiKeyRevoked",
    "Deleted",
    "ProjectPage",
    "ProjectSummary",
    "SignedUploadIn",
    "SignedUploadOut",
    "UploadKindName",
    "UploadOut",
    "UploadPage",
]

# How a brief names an upload: "upload:<id>" in any file field.
REF_PREFIX: Final = "upload:"
UploadKindName = Literal["photo", "logo", "font", "music", "voice_over"]

_UPLOAD_EXAMPLE: Final[dict[str, Any]] = {
    "id": "3f1c9a52-6a0e-4c55-8d0e-0d6b2b1f7a10",
    "ref": "upload:3f1c9a52-6a0e-4c55-8d0e-0d6b2b1f7a10",
    "kind": "photo",
    "size": 48213,
    "sha256": "9b0c6d0f2f5c5a1e8d1a4b7b3f0b9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
    "content_type": "image/png",
    "name": "coffee.png",
    "created_at": "2026-11-21T10:00:00Z",
}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class UploadOut(_Out):
    """A checked, stored file. Name it in a brief's file fields as ``ref``."""

    model_config = ConfigDict(json_schema_extra={"examples": [_UPLOAD_EXAMPLE]})

    id: UUID
    ref: str = Field(description="what a brief's photos, logo, font, music or voice.file say")
    kind: UploadKindName
    size: int = Field(description="bytes")
    sha256: str = Field(description="hex SHA-256 of the bytes: the same file gives the same upload")
    content_type: str
    name: str | None = Field(description="the file name it was uploaded with")
    created_at: datetime

    @classmethod
    def of(cls, upload: Upload) -> UploadOut:
        assert upload.size is not None and upload.sha256 is not None
        assert upload.content_type is not None
        return cls(
            id=upload.id, ref=f"{REF_PREFIX}{upload.id}", kind=upload.kind,
            size=upload.size, sha256=upload.sha256, content_type=upload.content_type,
            name=upload.original_name, created_at=upload.created_at,
        )  # fmt: skip


class UploadPage(_Out):
    """Uploads, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_UPLOAD_EXAMPLE], "next_cursor": None}]}
    )

    items: list[UploadOut]
    next_cursor: str | None = Field(description="null on the last page")


class Deleted(_Out):
    """What a DELETE removed (``{"id": ..., "deleted": true}``, as Stripe answers)."""

    id: UUID
    deleted: Literal[True] = True


class SignedUploadIn(BaseModel):
    """A browser upload to begin: its kind and, optionally, its file name."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kind": "photo", "name": "coffee.png"}]}
    )

    kind: UploadKindName
    name: str | None = Field(default=None, max_length=255)


class SignedUploadOut(_Out):
    """Where the browser sends the file: PUT the bytes to ``url`` (``token`` is in it, and is
    also given for supabase-js ``uploadToSignedUrl``), then POST ``complete_url``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f1c9a52-6a0e-4c55-8d0e-0d6b2b1f7a10",
                    "kind": "photo",
                    "url": "https://ref.supabase.co/storage/v1/object/upload/sign/reelforge/u/staging/3f1c?token=eyJ",
                    "token": "eyJ",
                    "path": "u/staging/3f1c9a52-6a0e-4c55-8d0e-0d6b2b1f7a10",
                    "max_bytes": 26214400,
                    "complete_url": "/v1/uploads/3f1c9a52-6a0e-4c55-8d0e-0d6b2b1f7a10/complete",
                }
            ]
        }
    )

    id: UUID
    kind: UploadKindName
    url: str
    token: str
    path: str = Field(description="the object's path in the bucket")
    max_bytes: int = Field(description="the cap of this kind; a larger file is refused")
    complete_url: str


class ProjectSummary(_Out):
    """A project in a list."""

    id: UUID
    name: str
    status: str
    chosen_script: int | None
    created_at: datetime
    updated_at: datetime


class ProjectPage(_Out):
    """Projects, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "0b7e3f7e-8c1a-4f2e-9a59-3f1d2c4b5a60",
                            "name": "Aurora Espresso Cup",
                            "status": "scripted",
                            "chosen_script": 1,
                            "created_at": "2026-11-21T10:00:00Z",
                            "updated_at": "2026-11-21T10:05:00Z",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[ProjectSummary]
    next_cursor: str | None = Field(description="null on the last page")


class ApiKeyIn(BaseModel):
    """A new API key: a name to recognise it by."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "ci"}]})

    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(_Out):
    """An API key without its secret: only its first characters, to recognise it."""

    id: UUID
    name: str
    prefix: str = Field(description="the key's first characters, e.g. rf_live_AbCd")
    created_at: datetime
    last_used_at: datetime | None = Field(description="to within a minute")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls.model_validate(key.model_dump())


class ApiKeyCreated(ApiKeyOut):
    """A new API key: ``key`` is shown in this response only; send it as ``Authorization:
    Bearer rf_live_...``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7a0e3b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                    "name": "ci",
                    "prefix": "rf_live_AbCd",
                    "key": "rf_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbC",
                    "created_at": "2026-11-21T10:00:00Z",
                    "last_used_at": None,
                }
            ]
        }
    )

    key: str


class ApiKeyList(_Out):
    """The caller's active API keys, newest first."""

    keys: list[ApiKeyOut]


class ApiKeyRevoked(_Out):
    """A revoked key: it stopped working when this response was sent."""

    id: UUID
    revoked: Literal[True] = True

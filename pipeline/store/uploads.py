"""The uploads repository: a user's checked files, content-addressed in the blob store. Rows are
written as the service (the API checked the content first; a tenant cannot record a file it
did not upload) and read as the user, under row-level security."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pipeline.store.database import Store
from pipeline.store.models import Upload, UploadDeletion
from pipeline.store.queries import fetch, one, scalar

__all__ = ["UploadRepository", "Uploads"]


class UploadRepository(Protocol):
    """Uploads: ready files by id, pending signed uploads, and their deletion."""

    def record(
        self,
        *,
        user_id: UUID,
        kind: str,
        key: str,
        sha256: str,
        size: int,
        content_type: str,
        original_name: str | None,
    ) -> Upload: ...
    def get(self, *, user_id: UUID, upload_id: UUID) -> Upload | None: ...
    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[Upload]: ...
    def delete(self, *, user_id: UUID, upload_id: UUID) -> UploadDeletion | None: ...
    def create_pending(
        self, *, user_id: UUID, kind: str, key: str, original_name: str | None
    ) -> Upload: ...
    def complete(
        self,
        *,
        user_id: UUID,
        upload_id: UUID,
        key: str,
        sha256: str,
        size: int,
        content_type: str,
    ) -> Upload | None: ...


class Uploads:
    """The uploads repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        *,
        user_id: UUID,
        kind: str,
        key: str,
        sha256: str,
        size: int,
        content_type: str,
        original_name: str | None,
    ) -> Upload:
        """The ready upload of these bytes as this kind: recorded now, or the one recorded
        before (uploading the same file twice gives the same upload)."""
        params = {
            "user_id": user_id, "kind": kind, "key": key, "sha256": sha256, "size": size,
            "content_type": content_type, "original_name": original_name,
        }  # fmt: skip
        with self._store.as_service() as conn:
            made = fetch(conn, "uploads/record", params, Upload)
        if made:
            return made[0]
        # A concurrent insert of the same bytes committed: this new statement sees it.
        with self._store.as_service() as conn:
            return one(fetch(conn, "uploads/same_bytes", params, Upload), "uploads/same_bytes")

    def get(self, *, user_id: UUID, upload_id: UUID) -> Upload | None:
        """The user's upload in any state; None for unknown ids and other users' alike."""
        with self._store.as_user(user_id) as conn:
            rows = fetch(conn, "uploads/get", {"id": upload_id, "user_id": user_id}, Upload)
        return rows[0] if rows else None

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[Upload]:
        """Up to ``limit`` ready uploads, newest first, older than ``before``."""
        before_at, before_id = before if before is not None else (None, None)
        params = {"user_id": user_id, "before_at": before_at, "before_id": before_id,
                  "limit": limit}  # fmt: skip
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "uploads/list", params, Upload)

    def delete(self, *, user_id: UUID, upload_id: UUID) -> UploadDeletion | None:
        """Deletes the user's upload; None if there is none. ``key_in_use``: another upload of
        the user names the same blob, which must then stay."""
        params: dict[str, Any] = {"id": upload_id, "user_id": user_id}
        with self._store.as_service() as conn:
            rows = fetch(conn, "uploads/delete", params, Upload)
            if not rows:
                return None
            in_use = scalar(conn, "uploads/key_in_use", {"user_id": user_id, "key": rows[0].key})
        return UploadDeletion(upload=rows[0], key_in_use=bool(in_use))

    def create_pending(
        self, *, user_id: UUID, kind: str, key: str, original_name: str | None
    ) -> Upload:
        """A pending upload at the staging ``key`` a browser will write to."""
        params = {"user_id": user_id, "kind": kind, "key": key, "original_name": original_name}
        with self._store.as_service() as conn:
            return one(fetch(conn, "uploads/create_pending", params, Upload), "create_pending")

    def complete(
        self,
        *,
        user_id: UUID,
        upload_id: UUID,
        key: str,
        sha256: str,
        size: int,
        content_type: str,
    ) -> Upload | None:
        """The pending upload made ready with its checked content at ``key``; when the user
        already has these bytes as this kind, that upload instead (the pending row goes). None
        if the upload is not the user's or not pending."""
        params = {"id": upload_id, "user_id": user_id, "key": key, "sha256": sha256,
                  "size": size, "content_type": content_type}  # fmt: skip
        with self._store.as_service() as conn:
            pending = fetch(conn, "uploads/lock_pending", params, Upload)
            if not pending:
                return None
            same = fetch(conn, "uploads/same_bytes", params | {"kind": pending[0].kind}, Upload)
            if same:
                fetch(conn, "uploads/delete", params, Upload)
                return same[0]
            return one(fetch(conn, "uploads/complete", params, Upload), "uploads/complete")

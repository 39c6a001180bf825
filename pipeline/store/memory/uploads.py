"""The uploads repository in memory: ready uploads unique per (user, kind, sha256), pending
signed uploads, the key-owner check, and what a user may see."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from uuid import UUID

from pipeline.store.memory.state import State, check, foreign_key, row_limit
from pipeline.store.models import Upload, UploadDeletion

__all__ = ["MemoryUploads"]

_KINDS = frozenset({"photo", "logo", "font", "music", "voice_over"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")


class MemoryUploads:
    """The uploads repository in memory."""

    def __init__(self, st: State) -> None:
        self._st = st

    def _checks(self, upload: Upload) -> None:
        """The table's CHECK and foreign-key constraints."""
        check(upload.kind in _KINDS, "uploads", "uploads_kind_check")
        check(1 <= len(upload.key) <= 512, "uploads", "uploads_key_check")
        check(upload.sha256 is None or bool(_SHA256.fullmatch(upload.sha256)), "uploads",
              "uploads_sha256_check")  # fmt: skip
        check(upload.size is None or upload.size > 0, "uploads", "uploads_size_check")
        ok_type = upload.content_type is None or bool(_TYPE.fullmatch(upload.content_type))
        check(ok_type, "uploads", "uploads_content_type_check")
        name = upload.original_name
        check(name is None or 1 <= len(name) <= 255, "uploads", "uploads_original_name_check")
        check(upload.key.startswith(f"{upload.user_id}/"), "uploads", "uploads_key_owner")
        complete = None not in (upload.sha256, upload.size, upload.content_type)
        check((upload.state == "ready") == complete, "uploads", "uploads_ready_complete")
        foreign_key(upload.user_id in self._st.users, "uploads", "uploads_user_id_fkey")

    def _same_bytes(self, user_id: UUID, kind: str, sha256: str) -> Upload | None:
        return next(
            (
                u for u in self._st.uploads.values()
                if (u.user_id, u.kind, u.sha256, u.state) == (user_id, kind, sha256, "ready")
            ),
            None,
        )  # fmt: skip

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
        """The ready upload of these bytes as this kind, recorded now or before."""
        with self._st.lock:
            upload = Upload(
                id=uuid.uuid4(), user_id=user_id, kind=kind, state="ready", key=key,
                sha256=sha256, size=size, content_type=content_type, original_name=original_name,
                created_at=self._st.now(),
            )  # fmt: skip
            self._checks(upload)
            found = self._same_bytes(user_id, kind, sha256)
            if found is not None:
                return found
            self._st.uploads[upload.id] = upload
            return upload

    def get(self, *, user_id: UUID, upload_id: UUID) -> Upload | None:
        """The user's upload in any state; None for others'."""
        with self._st.lock:
            found = self._st.uploads.get(upload_id)
            return found if found is not None and found.user_id == user_id else None

    def page(
        self, *, user_id: UUID, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[Upload]:
        """The user's ready uploads, newest first, after the cursor."""
        with self._st.lock:
            mine = [
                u for u in self._st.uploads.values()
                if u.user_id == user_id and u.state == "ready"
                and (before is None or (u.created_at, u.id) < before)
            ]  # fmt: skip
        mine.sort(key=lambda u: (u.created_at, u.id), reverse=True)
        return mine[: row_limit(limit)]

    def delete(self, *, user_id: UUID, upload_id: UUID) -> UploadDeletion | None:
        """Deletes the user's upload; whether another of theirs names the same blob."""
        with self._st.lock:
            found = self.get(user_id=user_id, upload_id=upload_id)
            if found is None:
                return None
            del self._st.uploads[upload_id]
            in_use = any(
                u.user_id == user_id and u.key == found.key for u in self._st.uploads.values()
            )
            return UploadDeletion(upload=found, key_in_use=in_use)

    def create_pending(
        self, *, user_id: UUID, kind: str, key: str, original_name: str | None
    ) -> Upload:
        """A pending upload at a staging key."""
        with self._st.lock:
            upload = Upload(
                id=uuid.uuid4(), user_id=user_id, kind=kind, state="pending", key=key,
                sha256=None, size=None, content_type=None, original_name=original_name,
                created_at=self._st.now(),
            )  # fmt: skip
            self._checks(upload)
            self._st.uploads[upload.id] = upload
            return upload

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
        """The pending upload made ready, or the user's earlier upload of the same bytes."""
        with self._st.lock:
            pending = self.get(user_id=user_id, upload_id=upload_id)
            if pending is None or pending.state != "pending":
                return None
            ready = pending.model_copy(
                update={"state": "ready", "key": key, "sha256": sha256, "size": size,
                        "content_type": content_type}
            )  # fmt: skip
            self._checks(ready)
            same = self._same_bytes(user_id, pending.kind, sha256)
            if same is not None:
                del self._st.uploads[upload_id]
                return same
            self._st.uploads[upload_id] = ready
            return ready

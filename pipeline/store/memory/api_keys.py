"""The API keys repository in memory: hashes unique, revocation at once, last use marked at
most once a minute (as the SQL does)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from uuid import UUID

from pipeline.store.errors import StoreInputError
from pipeline.store.memory.state import ApiKeyRow, State, check, foreign_key
from pipeline.store.models import ApiKey, ApiKeyOwner

__all__ = ["MemoryApiKeys"]

_PREFIX = re.compile(r"rf_live_[A-Za-z0-9_-]{4}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOUCH_EVERY = timedelta(seconds=60)


class MemoryApiKeys:
    """The API keys repository in memory."""

    def __init__(self, st: State) -> None:
        self._st = st

    def create(self, *, user_id: UUID, name: str, prefix: str, secret_hash: str) -> ApiKey:
        """A new active key of the user."""
        with self._st.lock:
            check(1 <= len(name) <= 100, "api_keys", "api_keys_name_check")
            check(bool(_PREFIX.fullmatch(prefix)), "api_keys", "api_keys_prefix_check")
            check(bool(_SHA256.fullmatch(secret_hash)), "api_keys", "api_keys_secret_hash_check")
            foreign_key(user_id in self._st.users, "api_keys", "api_keys_user_id_fkey")
            if any(r.secret_hash == secret_hash for r in self._st.api_keys.values()):
                raise StoreInputError(
                    "api_keys", "duplicate key value violates unique constraint "
                    '"api_keys_secret_hash_key"', sqlstate="23505",
                )  # fmt: skip
            key = ApiKey(
                id=uuid.uuid4(), name=name, prefix=prefix, created_at=self._st.now(),
                last_used_at=None, revoked_at=None,
            )  # fmt: skip
            self._st.api_keys[key.id] = ApiKeyRow(user_id, secret_hash, key)
            return key

    def list(self, *, user_id: UUID) -> list[ApiKey]:
        """The user's active keys, newest first."""
        with self._st.lock:
            mine = [
                r.key for r in self._st.api_keys.values()
                if r.user_id == user_id and r.key.revoked_at is None
            ]  # fmt: skip
        return sorted(mine, key=lambda k: (k.created_at, k.id), reverse=True)

    def revoke(self, *, user_id: UUID, key_id: UUID) -> bool:
        """Revokes the user's active key; False otherwise."""
        with self._st.lock:
            row = self._st.api_keys.get(key_id)
            if row is None or row.user_id != user_id or row.key.revoked_at is not None:
                return False
            row.key = row.key.model_copy(update={"revoked_at": self._st.now()})
            return True

    def authenticate(self, *, secret_hash: str) -> ApiKeyOwner | None:
        """The active key with this hash, marked used at most once a minute."""
        with self._st.lock:
            row = next(
                (r for r in self._st.api_keys.values()
                 if r.secret_hash == secret_hash and r.key.revoked_at is None),
                None,
            )  # fmt: skip
            if row is None:
                return None
            now = self._st.now()
            last = row.key.last_used_at
            if last is None or last < now - _TOUCH_EVERY:
                row.key = row.key.model_copy(update={"last_used_at": now})
            return ApiKeyOwner(id=row.key.id, user_id=row.user_id, secret_hash=row.secret_hash)

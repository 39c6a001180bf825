"""The API keys repository: per-user keys for server-to-server calls, kept only as SHA-256
hashes. Keys are created and revoked as the service, scoped to their user (the API shows a key
once and must be the only writer), listed as the user, and looked up by hash before any user is
known."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pipeline.store.database import Store
from pipeline.store.models import ApiKey, ApiKeyOwner
from pipeline.store.queries import fetch, one, values

__all__ = ["ApiKeyRepository", "ApiKeys"]


class ApiKeyRepository(Protocol):
    """API keys: create, list (no secrets), revoke, authenticate by hash."""

    def create(self, *, user_id: UUID, name: str, prefix: str, secret_hash: str) -> ApiKey: ...
    def list(self, *, user_id: UUID) -> list[ApiKey]: ...
    def revoke(self, *, user_id: UUID, key_id: UUID) -> bool: ...
    def authenticate(self, *, secret_hash: str) -> ApiKeyOwner | None: ...


class ApiKeys:
    """The API keys repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, *, user_id: UUID, name: str, prefix: str, secret_hash: str) -> ApiKey:
        """A new active key of the user, stored as its hash."""
        params = {"user_id": user_id, "name": name, "prefix": prefix, "secret_hash": secret_hash}
        with self._store.as_service() as conn:
            return one(fetch(conn, "api_keys/create", params, ApiKey), "api_keys/create")

    def list(self, *, user_id: UUID) -> list[ApiKey]:
        """The user's active keys, newest first."""
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "api_keys/list", {"user_id": user_id}, ApiKey)

    def revoke(self, *, user_id: UUID, key_id: UUID) -> bool:
        """Revokes the user's active key; False for unknown, revoked and other users' keys."""
        with self._store.as_service() as conn:
            return bool(values(conn, "api_keys/revoke", {"id": key_id, "user_id": user_id}))

    def authenticate(self, *, secret_hash: str) -> ApiKeyOwner | None:
        """The active key with this hash, marked used (at most once a minute); None if no
        active key has it."""
        with self._store.as_service() as conn:
            rows = fetch(conn, "api_keys/authenticate", {"secret_hash": secret_hash}, ApiKeyOwner)
        return rows[0] if rows else None

"""The idempotency keys repository: an API request's key claimed per user, its response stored
for replay, released when the request failed unexpectedly, and deleted after the retention."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.store.database import Store
from pipeline.store.models import IdempotencyRecord, KeyClaim
from pipeline.store.queries import execute, fetch, values

__all__ = ["Idempotency", "IdempotencyRepository"]


class IdempotencyRepository(Protocol):
    """API idempotency keys."""

    def claim(
        self,
        *,
        user_id: UUID,
        key: str,
        request_hash: str,
        lock_seconds: int,
        retention_seconds: int,
    ) -> KeyClaim: ...
    def complete(self, *, user_id: UUID, key: str, status: int, body: Any) -> None: ...
    def release(self, *, user_id: UUID, key: str) -> None: ...
    def cleanup(self, *, retention_seconds: int) -> int: ...


class Idempotency:
    """The idempotency keys repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def claim(
        self,
        *,
        user_id: UUID,
        key: str,
        request_hash: str,
        lock_seconds: int,
        retention_seconds: int,
    ) -> KeyClaim:
        """Claims ``(user, key)`` for this request, committed before it runs, in one transaction
        as the user with reading the key's record when the claim fails.

        The claim takes a new key, one older than ``retention_seconds``, or one still running
        with the same request after ``lock_seconds`` (its request died).
        """
        params = {
            "user_id": user_id,
            "key": key,
            "request_hash": request_hash,
            "lock_seconds": lock_seconds,
            "retention_seconds": retention_seconds,
        }
        with self._store.as_user(user_id) as conn:
            if values(conn, "idempotency/claim", params):
                return KeyClaim(claimed=True)
            found = fetch(conn, "idempotency/get", params, IdempotencyRecord)
        return KeyClaim(claimed=False, record=found[0] if found else None)

    def complete(self, *, user_id: UUID, key: str, status: int, body: Any) -> None:
        """Stores the claimed request's response (status and JSON body) for replay."""
        params = {"user_id": user_id, "key": key, "status": status, "body": Jsonb(body)}
        with self._store.as_user(user_id) as conn:
            execute(conn, "idempotency/complete", params)

    def release(self, *, user_id: UUID, key: str) -> None:
        """Drops a running claim (as the service), so that a retry runs the request again."""
        with self._store.as_service() as conn:
            execute(conn, "idempotency/release", {"user_id": user_id, "key": key})

    def cleanup(self, *, retention_seconds: int) -> int:
        """Deletes keys older than the retention; returns how many."""
        with self._store.as_service() as conn:
            return execute(conn, "idempotency/cleanup", {"retention_seconds": retention_seconds})

"""The users repository: a valid token's user admitted (added on first sight where
``auth.users`` is reelforge's own, refused on Supabase when Supabase Auth no longer has them),
and the local developer's user on the embedded database."""

from __future__ import annotations

import uuid
from typing import Protocol
from uuid import UUID

from pipeline.store.database import Connection, Store
from pipeline.store.queries import execute, scalar

__all__ = ["LOCAL_USER_EMAIL", "UserRepository", "Users", "local_user_id"]

LOCAL_USER_EMAIL = "local@reelforge.invalid"


def local_user_id(email: str) -> UUID:
    """A stable user id for a developer's email, the same on every run."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"reelforge:user:{email.strip().lower()}")


class UserRepository(Protocol):
    """Users the store creates itself."""

    def admit(self, *, user_id: UUID, email: str | None) -> bool: ...

    def ensure_local(
        self, conn: Connection | None = None, *, user_id: UUID, email: str
    ) -> None: ...


class Users:
    """The users repository on PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def admit(self, *, user_id: UUID, email: str | None) -> bool:
        """Whether the user of a valid token is known: True if they are in ``auth.users`` or
        were just added there (with the starting grant), which happens only where reelforge
        owns that table; on Supabase an id Supabase Auth does not have is False, never added."""
        with self._store.as_service() as tx:
            return bool(scalar(tx, "users/admit", {"user_id": user_id, "email": email}))

    def ensure_local(self, conn: Connection | None = None, *, user_id: UUID, email: str) -> None:
        """Creates the user (``local_user_id(email)``) unless present, in the caller's service
        transaction ``conn`` or its own. Only for the embedded database."""
        with self._store.service(conn) as tx:
            execute(tx, "users/ensure_local", {"user_id": user_id, "email": email})

"""The generation claims repository: which job pays for a shared asset (``pipeline.claims``),
one row per cache key in ``generation_claims``, in service transactions of one statement each
(nothing session-level, so Supavisor's transaction mode carries it)."""

from __future__ import annotations

from pipeline.claims import MAX_ERROR_CHARS, GenerationClaims
from pipeline.store.database import Store
from pipeline.store.queries import values

__all__ = ["Claims", "GenerationClaims"]


class Claims:
    """The generation claims on PostgreSQL; see :class:`pipeline.claims.GenerationClaims`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _held(self, name: str, **params: object) -> bool:
        with self._store.as_service() as conn:
            return bool(values(conn, name, params))

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        """Takes the claim unless another owner's lease still runs (one statement: of several
        owners racing for a new key, exactly one inserts and the others find its lease)."""
        return self._held("claims/acquire", key=key, owner=owner, lease_seconds=lease_seconds)

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        return self._held("claims/renew", key=key, owner=owner, lease_seconds=lease_seconds)

    def finish(self, key: str, *, owner: str) -> bool:
        return self._held("claims/finish", key=key, owner=owner)

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        return self._held("claims/fail", key=key, owner=owner, error=error[:MAX_ERROR_CHARS])

"""The generation claims repository in memory: one claim per cache key, leases on the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.claims import MAX_ERROR_CHARS, MAX_LEASE_SECONDS, MAX_OWNER_CHARS, is_claim_key
from pipeline.store.memory.state import ClaimRow, State, check

__all__ = ["MemoryClaims"]

_TABLE = "generation_claims"


class MemoryClaims:
    """The generation claims in memory, held to the PostgreSQL repository's contract (the
    table's checks on the key, the owner and the lease are raised as it raises them)."""

    def __init__(self, st: State) -> None:
        self._st = st

    def _lease(self, now: datetime, lease_seconds: int) -> datetime:
        ok = 0 < lease_seconds <= MAX_LEASE_SECONDS
        check(ok, _TABLE, "generation_claims_lease_check")
        return now + timedelta(seconds=lease_seconds)

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        """Takes a new key, a finished or failed one, one whose lease ran out or one ``owner``
        holds already; False while another owner's lease runs."""
        check(is_claim_key(key), _TABLE, "generation_claims_key_check")
        check(1 <= len(owner) <= MAX_OWNER_CHARS, _TABLE, "generation_claims_owner_check")
        with self._st.lock:
            now = self._st.now()
            found = self._st.claims.get(key)
            if found is None:
                self._st.claims[key] = ClaimRow(owner, self._lease(now, lease_seconds))
                return True
            free = found.state != "pending" or found.lease_expires_at <= now
            if not (free or found.owner == owner):
                return False
            found.lease_expires_at = self._lease(now, lease_seconds)
            found.attempts += int(found.owner != owner)
            found.owner, found.state, found.error = owner, "pending", None
            return True

    def _held(self, key: str, owner: str) -> ClaimRow | None:
        found = self._st.claims.get(key)
        if found is None or found.owner != owner or found.state != "pending":
            return None
        return found

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        with self._st.lock:
            found = self._held(key, owner)
            if found is not None:
                found.lease_expires_at = self._lease(self._st.now(), lease_seconds)
            return found is not None

    def finish(self, key: str, *, owner: str) -> bool:
        with self._st.lock:
            found = self._held(key, owner)
            if found is not None:
                found.state = "done"
            return found is not None

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        with self._st.lock:
            found = self._held(key, owner)
            if found is not None:
                found.state, found.error = "failed", error[:MAX_ERROR_CHARS]
            return found is not None

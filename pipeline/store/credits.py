"""The credits repository: grants and refunds, holds before paid work, settlement with the
actual cost, releases, the balance and the append-only ledger. Credits move only through the SQL
functions of migration 0002."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pipeline.store.database import Store
from pipeline.store.errors import StoreInputError
from pipeline.store.models import CreditHold, LedgerEntry
from pipeline.store.queries import fetch, one, scalar, values

__all__ = ["CreditRepository", "Credits"]


class CreditRepository(Protocol):
    """Balances, the ledger and credit holds."""

    def adjust(
        self, *, user_id: UUID, amount: int, reason: str, idempotency_key: str
    ) -> LedgerEntry: ...
    def hold(
        self,
        *,
        user_id: UUID,
        amount: int,
        job_id: UUID | None = None,
        idempotency_key: str | None = None,
    ) -> CreditHold: ...
    def settle(self, *, hold_id: UUID, actual: int) -> CreditHold: ...
    def release(self, *, hold_id: UUID) -> CreditHold: ...
    def release_orphans(self) -> int: ...
    def balance(self, *, user_id: UUID, as_user: bool = False) -> int: ...
    def ledger(self, *, user_id: UUID, before: int | None, limit: int) -> list[LedgerEntry]: ...


def _credits(where: str, name: str, value: object) -> int:
    """An amount of credits must be a plain int that fits a bigint; SQL checks the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreInputError(where, f"{name} must be an integer, got {type(value).__name__}")
    if not -(2**63) < value < 2**63:
        raise StoreInputError(where, f"{name} is out of range: {value}")
    return value


class Credits:
    """The credits repository on PostgreSQL; every change is one service transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def adjust(
        self, *, user_id: UUID, amount: int, reason: str, idempotency_key: str
    ) -> LedgerEntry:
        """Adds (or, negative, removes) credits once per key; a replayed key returns the first
        entry."""
        params = {
            "user_id": user_id,
            "amount": _credits("safe_adjust_credits", "amount", amount),
            "reason": reason,
            "key": idempotency_key,
        }
        with self._store.as_service() as conn:
            return one(fetch(conn, "credits/adjust", params, LedgerEntry), "safe_adjust_credits")

    def hold(
        self,
        *,
        user_id: UUID,
        amount: int,
        job_id: UUID | None = None,
        idempotency_key: str | None = None,
    ) -> CreditHold:
        """Reserves credits (once per key: a replayed key returns the first hold); raises
        InsufficientCredits when the balance is short."""
        params = {
            "user_id": user_id,
            "amount": _credits("hold_credits", "amount", amount),
            "job_id": job_id,
            "key": idempotency_key,
        }
        with self._store.as_service() as conn:
            return one(fetch(conn, "credits/hold", params, CreditHold), "hold_credits")

    def settle(self, *, hold_id: UUID, actual: int) -> CreditHold:
        """Charges ``actual`` (at most the hold) and returns the rest; a hold resolves once."""
        params = {"hold_id": hold_id, "actual": _credits("settle_hold", "actual", actual)}
        with self._store.as_service() as conn:
            return one(fetch(conn, "credits/settle", params, CreditHold), "settle_hold")

    def release(self, *, hold_id: UUID) -> CreditHold:
        """Returns the whole hold (failed or canceled work)."""
        with self._store.as_service() as conn:
            rows = fetch(conn, "credits/release", {"hold_id": hold_id}, CreditHold)
        return one(rows, "release_hold")

    def release_orphans(self) -> int:
        """Releases holds still held by failed or canceled jobs (up to 100, each in its own
        transaction); returns how many."""
        with self._store.as_service() as conn:
            orphans = values(conn, "credits/orphan_holds", {})
        for hold_id in orphans:
            self.release(hold_id=hold_id)
        return len(orphans)

    def balance(self, *, user_id: UUID, as_user: bool = False) -> int:
        """The user's current balance (0 without an account); read as the user, so RLS
        applies, when ``as_user``, else as the service."""
        if as_user:
            with self._store.as_user(user_id) as conn:
                found = scalar(conn, "credits/balance", {"user_id": user_id})
        else:
            with self._store.as_service() as conn:
                found = scalar(conn, "credits/balance", {"user_id": user_id})
        return int(found) if found is not None else 0

    def ledger(self, *, user_id: UUID, before: int | None, limit: int) -> list[LedgerEntry]:
        """Up to ``limit`` of the user's ledger entries, newest first, older than entry
        ``before`` (None: from the newest), read as the user."""
        params = {"user_id": user_id, "before": before, "limit": limit}
        with self._store.as_user(user_id) as conn:
            return fetch(conn, "credits/ledger", params, LedgerEntry)

"""The credits repository: grants and refunds, holds before paid work, settlement with the
actual cost, releases, the balance and the append-only ledger, and the starting grant new users
get. Credits move only through the SQL functions of migrations 0002 and 0012."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pipeline.store.database import Store
from pipeline.store.errors import KeyReused, StoreInputError
from pipeline.store.models import CreditGrant, CreditHold, LedgerEntry
from pipeline.store.queries import fetch, fetch_dicts, one, scalar, values

__all__ = ["GRANT_KEY_PREFIX", "MAX_GRANT_KEY", "CreditRepository", "Credits", "checked_grant"]

# Service grants keep their keys apart from the ledger's other keys (purchases, the starting
# grant, the development grant): a key chosen by an operator can never replay a purchase.
GRANT_KEY_PREFIX = "grant:"
MAX_GRANT_KEY = 200 - len(GRANT_KEY_PREFIX)  # the ledger's keys are at most 200 characters


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
    def grant(self, *, user_id: UUID, amount: int, reason: str, key: str) -> CreditGrant: ...
    def starting_grant(self) -> int: ...
    def set_starting_grant(self, amount: int) -> int: ...


def checked_grant(found: CreditGrant, *, amount: int, reason: str, key: str) -> CreditGrant:
    """The grant, unless its key had already taken effect with another amount or reason: then
    KeyReused, as an Idempotency-Key reused with another body is refused, not silently
    answered with the first request's result."""
    entry = found.entry
    if found.replayed and (entry.delta, entry.reason) != (amount, reason):
        problem = (
            f"{key!r} was already used for a grant of {entry.delta} credits "
            f"({entry.reason!r}) to this user"
        )
        raise KeyReused("idempotency key", problem)
    return found


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

    def grant(self, *, user_id: UUID, amount: int, reason: str, key: str) -> CreditGrant:
        """Grants ``amount`` (positive) once per (user, key); a replayed key returns the first
        entry with ``replayed`` set, and KeyReused if it asked for another amount or reason."""
        params = {
            "user_id": user_id,
            "amount": _credits("grant_credits", "amount", amount),
            "reason": reason,
            "key": key,
        }
        with self._store.as_service() as conn:
            row = one(fetch_dicts(conn, "credits/grant", params), "grant_credits")
        replayed = bool(row.pop("replayed"))
        found = CreditGrant(entry=LedgerEntry.model_validate(row), replayed=replayed)
        return checked_grant(found, amount=amount, reason=reason, key=key)

    def starting_grant(self) -> int:
        """The credits each new user is granted when created (0: none)."""
        with self._store.as_service() as conn:
            return int(scalar(conn, "credits/starting_grant", {}) or 0)

    def set_starting_grant(self, amount: int) -> int:
        """Sets the starting grant for users created from now on (0 turns it off); returns it.
        Users created before are not granted anything by the change."""
        params = {"amount": _credits("app_config", "starting_grant", amount)}
        with self._store.as_service() as conn:
            return int(one(values(conn, "credits/set_starting_grant", params), "app_config"))

"""Credits: grants and refunds, holds before paid work, settlement with the actual cost, releases."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from pipeline.store.database import Store
from pipeline.store.errors import StoreError, StoreInputError
from pipeline.store.models import CreditHold, LedgerEntry
from pipeline.store.queries import query

__all__ = ["adjust_credits", "credit_balance", "hold_credits", "release_hold", "settle_hold"]


M = TypeVar("M")


def _one(rows: list[M], what: str) -> M:
    if len(rows) != 1:
        raise StoreError(f"{what} returned {len(rows)} rows instead of 1")
    return rows[0]


def _credits(where: str, name: str, value: object) -> int:
    """An amount of credits must be a plain int that fits a bigint; SQL checks the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreInputError(where, f"{name} must be an integer, got {type(value).__name__}")
    if not -(2**63) < value < 2**63:
        raise StoreInputError(where, f"{name} is out of range: {value}")
    return value


def adjust_credits(
    *, store: Store, user_id: UUID, amount: int, reason: str, idempotency_key: str
) -> LedgerEntry:
    """Adds (or, negative, removes) credits once per key; a replayed key returns the first entry."""
    with store.as_service() as conn:
        rows = store.fetch(
            conn,
            "safe_adjust_credits",
            {
                "user_id": user_id,
                "amount": _credits("safe_adjust_credits", "amount", amount),
                "reason": reason,
                "key": idempotency_key,
            },
            LedgerEntry,
        )
    return _one(rows, "safe_adjust_credits")


def hold_credits(
    *,
    store: Store,
    user_id: UUID,
    amount: int,
    job_id: UUID | None = None,
    idempotency_key: str | None = None,
) -> CreditHold:
    """Reserves credits; raises InsufficientCredits when the balance is short."""
    with store.as_service() as conn:
        rows = store.fetch(
            conn,
            "hold_credits",
            {
                "user_id": user_id,
                "amount": _credits("hold_credits", "amount", amount),
                "job_id": job_id,
                "key": idempotency_key,
            },
            CreditHold,
        )
    return _one(rows, "hold_credits")


def settle_hold(*, store: Store, hold_id: UUID, actual: int) -> CreditHold:
    """Charges ``actual`` (at most the hold) and returns the rest; a hold resolves once."""
    with store.as_service() as conn:
        rows = store.fetch(
            conn,
            "settle_hold",
            {"hold_id": hold_id, "actual": _credits("settle_hold", "actual", actual)},
            CreditHold,
        )
    return _one(rows, "settle_hold")


def release_hold(*, store: Store, hold_id: UUID) -> CreditHold:
    """Returns the whole hold (failed or canceled work)."""
    with store.as_service() as conn:
        rows = store.fetch(conn, "release_hold", {"hold_id": hold_id}, CreditHold)
    return _one(rows, "release_hold")


def credit_balance(*, store: Store, user_id: UUID) -> int:
    """The user's current balance."""
    with store.as_service() as conn:
        row = conn.execute(query("credit_balance"), {"user_id": user_id}).fetchone()
    return int(row[0]) if row else 0

"""The credits repository in memory: balances, holds, the ledger and the starting grant, as the
functions of migrations 0002 and 0012 keep them."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from pipeline.store.credits import MAX_GRANT_KEY, _credits, checked_grant
from pipeline.store.errors import (
    CostAboveHold,
    HoldResolved,
    InsufficientCredits,
    NotFound,
    StoreInputError,
    UnknownUser,
)
from pipeline.store.memory.state import State, argument, check, job_of, row_limit
from pipeline.store.models import CreditGrant, CreditHold, HoldStatus, JobState, LedgerEntry

__all__ = ["STARTING_GRANT_KEY", "MemoryCredits"]

_MAX_CREDITS = 1_000_000_000
STARTING_GRANT_KEY = "starting-grant"


def _amount(where: str, amount: int) -> None:
    """``check_credit_amount``."""
    if not 0 < amount <= _MAX_CREDITS:
        problem = f"{where} must be between 1 and {_MAX_CREDITS}, got {amount}"
        raise StoreInputError("check_credit_amount", problem, sqlstate="22023")


class MemoryCredits:
    """The credits repository in memory (migration 0002's functions)."""

    def __init__(self, st: State) -> None:
        self._st = st

    def _account(self, user_id: UUID) -> int:
        """``lock_credit_account``: the balance, opening the account of a known user."""
        if user_id not in self._st.balances:
            if user_id not in self._st.users:
                raise UnknownUser(
                    "lock_credit_account", f"unknown user {user_id}", sqlstate="RF002"
                )
            self._st.balances[user_id] = 0
        return self._st.balances[user_id]

    def _entry(
        self,
        user_id: UUID,
        delta: int,
        reason: str,
        now: datetime,
        *,
        hold_id: UUID | None = None,
        key: str | None = None,
    ) -> LedgerEntry:
        """Moves the balance by ``delta`` and appends the ledger entry saying so."""
        balance = self._st.balances[user_id] + delta
        self._st.balances[user_id] = balance
        entry = LedgerEntry(
            id=self._st.serial("credit_ledger"),
            user_id=user_id,
            delta=delta,
            balance_after=balance,
            reason=reason,
            hold_id=hold_id,
            idempotency_key=key,
            created_at=now,
        )
        self._st.ledger.append(entry)
        return entry

    def keyed(self, user_id: UUID, key: str) -> LedgerEntry | None:
        """The user's ledger entry under ``key``, if any (the caller holds the lock)."""
        for entry in self._st.ledger:
            if entry.user_id == user_id and entry.idempotency_key == key:
                return entry
        return None

    def adjust(
        self, *, user_id: UUID, amount: int, reason: str, idempotency_key: str
    ) -> LedgerEntry:
        """``safe_adjust_credits``: once per key; a replayed key returns the first entry."""
        where = "safe_adjust_credits"
        _amount("amount", abs(_credits(where, "amount", amount)))
        argument(1 <= len(reason) <= 200, where, "reason must be 1 to 200 characters")
        ok = 1 <= len(idempotency_key) <= 200
        argument(ok, where, "idempotency key must be 1 to 200 characters")
        with self._st.lock:
            balance = self._account(user_id)
            if (entry := self.keyed(user_id, idempotency_key)) is not None:
                return entry
            if balance + amount < 0:
                problem = f"insufficient credits: balance {balance}, adjustment {amount}"
                raise InsufficientCredits(where, problem, sqlstate="RF001")
            return self._entry(user_id, amount, reason, self._st.now(), key=idempotency_key)

    def hold(
        self,
        *,
        user_id: UUID,
        amount: int,
        job_id: UUID | None = None,
        idempotency_key: str | None = None,
    ) -> CreditHold:
        """``hold_credits``: reserves credits, once per key."""
        where = "hold_credits"
        _amount("amount", _credits(where, "amount", amount))
        with self._st.lock:
            balance = self._account(user_id)
            if idempotency_key is not None:
                for held in self._st.holds.values():
                    if held.user_id == user_id and held.idempotency_key == idempotency_key:
                        return held
            argument(
                job_of(self._st, job_id, user_id),
                where,
                f"unknown job {job_id} for user {user_id}",
            )
            if balance < amount:
                problem = f"insufficient credits: balance {balance}, needed {amount}"
                raise InsufficientCredits(where, problem, sqlstate="RF001")
            key_ok = idempotency_key is None or 1 <= len(idempotency_key) <= 200
            check(key_ok, "credit_holds", "credit_holds_idempotency_key_check")
            return self._new_hold(user_id, amount, job_id, idempotency_key)

    def _new_hold(
        self, user_id: UUID, amount: int, job_id: UUID | None, key: str | None
    ) -> CreditHold:
        now = self._st.now()
        held = CreditHold(
            id=uuid.uuid4(),
            user_id=user_id,
            job_id=job_id,
            amount=amount,
            status=HoldStatus.HELD,
            settled_amount=None,
            idempotency_key=key,
            created_at=now,
            resolved_at=None,
        )
        self._st.holds[held.id] = held
        self._entry(user_id, -amount, "hold", now, hold_id=held.id)
        return held

    def _locked_hold(self, hold_id: UUID) -> CreditHold:
        """``lock_credit_hold``."""
        held = self._st.holds.get(hold_id)
        if held is None:
            raise NotFound("lock_credit_hold", f"unknown hold {hold_id}", sqlstate="RF003")
        return held

    def settle(self, *, hold_id: UUID, actual: int) -> CreditHold:
        """``settle_hold``: charges ``actual`` (at most the hold) and returns the rest; settling
        again with the same cost returns the settled hold."""
        where = "settle_hold"
        _credits(where, "actual", actual)
        argument(actual >= 0, where, f"actual cost must be 0 or more, got {actual}")
        with self._st.lock:
            held = self._locked_hold(hold_id)
            if held.status == HoldStatus.SETTLED and held.settled_amount == actual:
                return held
            if held.status != HoldStatus.HELD:
                problem = f"hold {hold_id} is already {held.status}"
                raise HoldResolved(f"{where}: {problem}", sqlstate="RF004")
            if actual > held.amount:
                problem = f"actual cost {actual} exceeds hold {hold_id} of {held.amount}"
                raise CostAboveHold(where, problem, sqlstate="RF005")
            now = self._st.now()
            held = held.model_copy(
                update={"status": HoldStatus.SETTLED, "settled_amount": actual, "resolved_at": now}
            )
            self._st.holds[hold_id] = held
            if held.amount > actual:
                rest = held.amount - actual
                self._entry(held.user_id, rest, "hold remainder", now, hold_id=hold_id)
            return held

    def release(self, *, hold_id: UUID) -> CreditHold:
        """``release_hold``: returns the whole hold; a released hold is returned unchanged."""
        with self._st.lock:
            held = self._locked_hold(hold_id)
            if held.status == HoldStatus.RELEASED:
                return held
            if held.status != HoldStatus.HELD:
                problem = f"hold {hold_id} is already {held.status}"
                raise HoldResolved(f"release_hold: {problem}", sqlstate="RF004")
            now = self._st.now()
            held = held.model_copy(update={"status": HoldStatus.RELEASED, "resolved_at": now})
            self._st.holds[hold_id] = held
            self._entry(held.user_id, held.amount, "hold released", now, hold_id=hold_id)
            return held

    def release_orphans(self) -> int:
        """Releases up to 100 holds still held by failed or canceled jobs; how many."""
        with self._st.lock:
            orphans = [
                h.id
                for h in sorted(self._st.holds.values(), key=lambda h: h.created_at)
                if h.status == HoldStatus.HELD
                and h.job_id is not None
                and job_of(self._st, h.job_id, h.user_id)
                and self._st.jobs[h.job_id].state in (JobState.FAILED, JobState.CANCELED)
            ][:100]
        for hold_id in orphans:
            self.release(hold_id=hold_id)
        return len(orphans)

    def balance(self, *, user_id: UUID, as_user: bool = False) -> int:
        """The balance, 0 without an account (RLS shows a user only their own: the same)."""
        with self._st.lock:
            return self._st.balances.get(user_id, 0)

    def ledger(self, *, user_id: UUID, before: int | None, limit: int) -> list[LedgerEntry]:
        """The user's entries, newest first, older than entry ``before``."""
        with self._st.lock:
            mine = [
                e
                for e in reversed(self._st.ledger)
                if e.user_id == user_id and (before is None or e.id < before)
            ]
        return mine[: row_limit(limit)]

    def grant(self, *, user_id: UUID, amount: int, reason: str, key: str) -> CreditGrant:
        """``grant_credits``: once per (user, ``grant:`` key), saying whether it was replayed."""
        where = "grant_credits"
        _amount("amount", _credits(where, "amount", amount))
        ok = 1 <= len(key) <= MAX_GRANT_KEY
        argument(ok, where, f"grant key must be 1 to {MAX_GRANT_KEY} characters")
        ledger_key = f"grant:{key}"
        with self._st.lock:
            self._account(user_id)
            first = self.keyed(user_id, ledger_key)
            entry = first or self.adjust(
                user_id=user_id, amount=amount, reason=reason, idempotency_key=ledger_key
            )
        found = CreditGrant(entry=entry, replayed=first is not None)
        return checked_grant(found, amount=amount, reason=reason, key=key)

    def grant_starting(self, user_id: UUID) -> LedgerEntry | None:
        """``grant_starting_credits``: the configured starting grant, once per user (None while
        it is 0). The users repository calls it when it creates a user, as the trigger does."""
        with self._st.lock:
            amount = self._st.starting_grant
            if amount == 0:
                return None
            return self.adjust(
                user_id=user_id, amount=amount, reason="starting grant",
                idempotency_key=STARTING_GRANT_KEY,
            )  # fmt: skip

    def starting_grant(self) -> int:
        """``app_config.starting_grant``."""
        with self._st.lock:
            return self._st.starting_grant

    def set_starting_grant(self, amount: int) -> int:
        """Sets ``app_config.starting_grant`` (its CHECK: 0 to a billion)."""
        _credits("app_config", "starting_grant", amount)
        check(0 <= amount <= _MAX_CREDITS, "app_config", "app_config_starting_grant_check")
        with self._st.lock:
            self._st.starting_grant = amount
            return amount

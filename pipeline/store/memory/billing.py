"""The billing repository in memory: payment events recorded once per event id, each purchase
credited once per checkout session (``record_billing_event`` of migration 0012)."""

from __future__ import annotations

import re
from uuid import UUID

from pipeline.store.billing import purchase_key
from pipeline.store.memory.credits import MemoryCredits
from pipeline.store.memory.state import State, argument, check, row_limit
from pipeline.store.models import BillingEvent, BillingOutcome, CheckoutPayment

__all__ = ["MemoryBilling"]

_TABLE = "billing_events"
_CURRENCY = re.compile(r"[a-z]{3}")


def _checked(payment: CheckoutPayment) -> None:
    """The function's own check, then the table's CHECK constraints a caller can hit."""
    credit = payment.outcome is None
    ok = not credit or (payment.checkout_session is not None and payment.credits is not None)
    argument(ok, "record_billing_event", "a purchase needs a checkout session and credits")
    for column, value, limit in [
        ("event_id", payment.event_id, 255),
        ("event_type", payment.event_type, 255),
        ("checkout_session", payment.checkout_session, 184),
        ("client_reference_id", payment.client_reference_id, 255),
        ("detail", payment.detail, 500),
    ]:
        check(value is None or 1 <= len(value) <= limit, _TABLE, f"{_TABLE}_{column}_check")
    ok = payment.credits is None or 1 <= payment.credits <= 1_000_000_000
    check(ok, _TABLE, f"{_TABLE}_credits_check")
    check(payment.provider == "stripe", _TABLE, f"{_TABLE}_provider_check")
    ok = payment.currency is None or _CURRENCY.fullmatch(payment.currency) is not None
    check(ok, _TABLE, f"{_TABLE}_currency_check")


class MemoryBilling:
    """The billing repository in memory."""

    def __init__(self, st: State, credits: MemoryCredits) -> None:
        self._st = st
        self._credits = credits

    def record(self, payment: CheckoutPayment) -> BillingEvent:
        """Records the event once per (provider, event id) and credits its purchase once per
        checkout session; a repeated event returns the first record as a duplicate."""
        _checked(payment)
        with self._st.lock:
            for known in self._st.billing_events:
                if (known.provider, known.event_id) == (payment.provider, payment.event_id):
                    return known.model_copy(update={"duplicate": True})
            event = self._new(payment)
            if payment.outcome is None:
                event = self._credit(event, payment)
            self._st.billing_events.append(event)
            return event

    def _new(self, payment: CheckoutPayment) -> BillingEvent:
        fields = payment.model_dump(exclude={"user_id", "outcome"})
        return BillingEvent(
            **fields,
            id=self._st.serial(_TABLE),
            outcome=payment.outcome or BillingOutcome.CREDITED,
            ledger_id=None,
            received_at=self._st.now(),
        )

    def _credit(self, event: BillingEvent, payment: CheckoutPayment) -> BillingEvent:
        """The purchase: to a known user, once per session (call with the lock held)."""
        user: UUID | None = payment.user_id
        assert payment.checkout_session is not None and payment.credits is not None
        if user is None or user not in self._st.users:
            reference = payment.client_reference_id or "(no client_reference_id)"
            unknown = {"outcome": BillingOutcome.UNKNOWN_USER, "detail": f"no user {reference}"}
            return event.model_copy(update=unknown)
        key = purchase_key(payment.provider, payment.checkout_session)
        first = self._credits.keyed(user, key)
        if first is not None:
            already = {"outcome": BillingOutcome.ALREADY_CREDITED, "ledger_id": first.id}
            return event.model_copy(update=already)
        entry = self._credits.adjust(
            user_id=user, amount=payment.credits, reason="purchase", idempotency_key=key
        )
        return event.model_copy(update={"ledger_id": entry.id})

    def events(
        self, *, checkout_session: str | None = None, limit: int = 100
    ) -> list[BillingEvent]:
        """Recorded events, newest first (of one checkout session if given)."""
        with self._st.lock:
            found = [
                e
                for e in reversed(self._st.billing_events)
                if checkout_session is None or e.checkout_session == checkout_session
            ]
        return found[: row_limit(limit)]

"""The billing repository: payment events (Stripe's), each recorded once per event id in the
transaction that credits its purchase, once per checkout session (migration 0012)."""

from __future__ import annotations

from typing import Protocol

from pipeline.store.database import Store
from pipeline.store.models import BillingEvent, CheckoutPayment
from pipeline.store.queries import fetch, one

__all__ = ["Billing", "BillingRepository", "purchase_key"]


def purchase_key(provider: str, checkout_session: str) -> str:
    """The ledger key of a checkout session's purchase: one credit per session, whichever of its
    events (completed, async payment succeeded, a redelivery) arrives first."""
    return f"{provider}:checkout:{checkout_session}"


class BillingRepository(Protocol):
    """Payment events and the purchases they credit."""

    def record(self, payment: CheckoutPayment) -> BillingEvent: ...
    def events(
        self, *, checkout_session: str | None = None, limit: int = 100
    ) -> list[BillingEvent]: ...


class Billing:
    """The billing repository on PostgreSQL (service transactions: payments name their user)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, payment: CheckoutPayment) -> BillingEvent:
        """Records the event and, when ``payment.outcome`` is None, credits the purchase, in one
        transaction. A repeated event id returns the first record with ``duplicate`` set and
        changes nothing; a second event of a credited session is ``already_credited``; a user
        that does not exist is ``unknown_user`` (recorded, nothing credited)."""
        params = payment.model_dump(mode="python")
        params["outcome"] = payment.outcome.value if payment.outcome is not None else None
        with self._store.as_service() as conn:
            return one(fetch(conn, "billing/record", params, BillingEvent), "record_billing_event")

    def events(
        self, *, checkout_session: str | None = None, limit: int = 100
    ) -> list[BillingEvent]:
        """Recorded events, newest first (of one checkout session if given)."""
        params = {"checkout_session": checkout_session, "limit": limit}
        with self._store.as_service() as conn:
            return fetch(conn, "billing/events", params, BillingEvent)

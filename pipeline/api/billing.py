"""Purchases through Stripe Checkout: the signed webhook verified with Stripe's own library, the
event read as a purchase (or not), and the store recording it once, with its credit.

What a purchase is. A front end's server creates the Checkout Session with
``client_reference_id`` = the buyer's Supabase user id and ``metadata.credits`` = the credits
bought (a whole number as a string, as Stripe keeps metadata). Metadata is set with the secret
key, so a customer cannot change it. The session is credited once, when Stripe says it is paid:
``checkout.session.completed`` with ``payment_status`` "paid" (or "no_payment_required" in
``payment`` mode: a 100% discount, which Stripe's fulfilment guide also fulfils; in setup or
subscription mode it means nothing was bought), or, for delayed payment methods,
``checkout.session.async_payment_succeeded``. Every other event type is recorded as ignored.

Every verified event is answered 200 once recorded, whatever its outcome, because Stripe retries
anything else for days and a retry cannot fix a session that names no user or no credits; those
are logged as warnings and kept in ``billing_events`` for an operator to resolve by hand
(``reelforge credits grant``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Final
from uuid import UUID

from pipeline.api.billing_models import StripeWebhookOut
from pipeline.store import Repositories
from pipeline.store.models import BillingEvent, BillingOutcome, CheckoutPayment

__all__ = ["PAID_EVENTS", "StripeRejected", "checkout_payment", "handle_event", "verify_event"]

_log = logging.getLogger("pipeline.api.billing")

PAID_EVENTS: Final = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)
_CREDITS: Final = re.compile(r"[1-9][0-9]{0,9}")
_MAX_CREDITS: Final = 1_000_000_000
_MAX_SESSION_ID: Final = 184  # its ledger key, "stripe:checkout:<id>", fits 200 characters
_MAX_TEXT: Final = 255
_MAX_DETAIL: Final = 500


class StripeRejected(ValueError):
    """The request is not an event Stripe signed with our endpoint's secret (or not JSON)."""


def verify_event(body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, once ``Stripe-Signature`` proves Stripe signed ``body`` with ``secret`` in the
    last 5 minutes (``stripe.Webhook.construct_event``); StripeRejected otherwise."""
    import stripe  # here: importing it takes a third of a second, and only this route needs it

    try:
        stripe.Webhook.construct_event(body, signature, secret)
        # The verified bytes themselves as plain JSON (the library built an Event from the
        # same object): the same across the library's versions.
        event: dict[str, Any] = json.loads(body)
    except stripe.SignatureVerificationError as exc:
        raise StripeRejected(f"the Stripe signature does not verify: {exc.user_message}") from None
    except (ValueError, AttributeError, TypeError):
        # The signature held (it is checked first), but the body is not UTF-8 JSON (ValueError)
        # or not an object (the library's event builder fails on a list or a number).
        raise StripeRejected("the body is not a JSON event") from None
    return event


def _text(value: object) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value else None


def _user(reference: str | None) -> UUID | None:
    try:
        return UUID(reference) if reference is not None else None
    except ValueError:
        return None


def _credits(metadata: object) -> int | None:
    value = metadata.get("credits") if isinstance(metadata, dict) else None
    if isinstance(value, str) and _CREDITS.fullmatch(value.strip()):
        credits = int(value)
        return credits if credits <= _MAX_CREDITS else None
    return None


def checkout_payment(event: dict[str, Any]) -> CheckoutPayment:
    """What the store should do with a verified event: credit a paid session's purchase
    (``outcome`` None) or record why not."""
    head = {
        "event_id": str(event.get("id") or "")[:_MAX_TEXT],
        "event_type": str(event.get("type") or "")[:_MAX_TEXT],
        "livemode": event.get("livemode") is True,
    }
    if head["event_type"] not in PAID_EVENTS:
        return CheckoutPayment(**head, outcome=BillingOutcome.IGNORED)
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    session_id = session.get("id") if isinstance(session, dict) else None
    if not isinstance(session, dict) or not isinstance(session_id, str):
        detail = "the event carries no Checkout Session"
        return CheckoutPayment(**head, outcome=BillingOutcome.INVALID, detail=detail)
    reference = _text(session.get("client_reference_id"))
    currency = session.get("currency")
    amount = session.get("amount_total")
    payment = CheckoutPayment(
        **head,
        checkout_session=session_id if 1 <= len(session_id) <= _MAX_SESSION_ID else None,
        client_reference_id=reference,
        user_id=_user(reference),
        amount_total=amount if _bigint(amount) else None,
        currency=currency if isinstance(currency, str) and re.fullmatch("[a-z]{3}", currency) else None,
        credits=_credits(session.get("metadata")),
    )  # fmt: skip
    return _why_not(payment, session.get("payment_status"), session.get("mode"))


def _bigint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _paid(status: object, mode: object) -> bool:
    return status == "paid" or (status == "no_payment_required" and mode == "payment")


def _why_not(payment: CheckoutPayment, status: object, mode: object) -> CheckoutPayment:
    """The payment as given if it is a paid purchase; else with the outcome saying why not."""
    if payment.event_type == "checkout.session.completed" and not _paid(status, mode):
        outcome, detail = BillingOutcome.NOT_PAID, f"payment_status is {status!r} ({mode} mode)"
    elif payment.checkout_session is None:
        outcome, detail = BillingOutcome.INVALID, "the Checkout Session id is empty or too long"
    elif payment.credits is None:
        outcome = BillingOutcome.INVALID
        detail = f"metadata.credits is missing or not a whole number from 1 to {_MAX_CREDITS}"
    else:
        return payment
    return payment.model_copy(update={"outcome": outcome, "detail": detail[:_MAX_DETAIL]})


def _log_outcome(event: BillingEvent) -> None:
    """Purchases that credited nothing are an operator's to resolve: say which and why."""
    if event.duplicate:
        _log.info("stripe event %s: a duplicate, nothing done", event.event_id)
    elif event.outcome in (BillingOutcome.UNKNOWN_USER, BillingOutcome.INVALID):
        _log.warning(
            "stripe event %s (%s) for Checkout Session %s credited nothing: %s; recorded in "
            "billing_events (grant by hand with `reelforge credits grant` if it was paid)",
            event.event_id, event.event_type, event.checkout_session, event.detail,
        )  # fmt: skip
    elif event.outcome == BillingOutcome.CREDITED:
        _log.info("stripe event %s: %s credits for Checkout Session %s",
                  event.event_id, event.credits, event.checkout_session)  # fmt: skip


def handle_event(*, repos: Repositories, event: dict[str, Any]) -> StripeWebhookOut:
    """Records a verified event once and credits its purchase once (one transaction)."""
    payment = checkout_payment(event)
    if not payment.event_id or not payment.event_type:
        raise StripeRejected("the event has no id or no type")
    recorded = repos.billing.record(payment)
    _log_outcome(recorded)
    return StripeWebhookOut(
        event_id=recorded.event_id, outcome=recorded.outcome, duplicate=recorded.duplicate
    )

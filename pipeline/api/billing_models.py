"""Request and response bodies of the admin grant and Stripe webhook routes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pipeline.store.models import BillingOutcome

__all__ = ["GrantIn", "GrantOut", "StripeWebhookOut"]


class GrantIn(BaseModel):
    """Credits to give a user: support gestures, promotions, corrections of a failed purchase."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "user_id": "5b0f8a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                    "amount": 500,
                    "reason": "support: job 8e6f3c7e failed twice",
                }
            ]
        },
    )

    user_id: UUID = Field(description="the Supabase user id (auth.users.id)")
    amount: int = Field(ge=1, le=1_000_000_000, description="credits to add")
    reason: str = Field(
        default="grant", min_length=1, max_length=200, description="shown in the user's ledger"
    )


class GrantOut(BaseModel):
    """The grant's ledger entry; a replay returns the first grant's entry unchanged."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "user_id": "5b0f8a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                    "ledger_id": 412,
                    "credits": 500,
                    "balance_after": 1500,
                    "reason": "support: job 8e6f3c7e failed twice",
                    "idempotency_key": "8e6f3c7e-5f4d-4d0b-9a0b-2f9f1a6c7d21",
                    "created_at": "2026-11-21T10:00:00Z",
                }
            ]
        },
    )

    user_id: UUID
    ledger_id: int = Field(description="the ledger entry that added the credits")
    credits: int = Field(description="credits added")
    balance_after: int = Field(description="the user's balance right after this grant")
    reason: str
    idempotency_key: str = Field(description="the Idempotency-Key the grant was made under")
    created_at: datetime


class StripeWebhookOut(BaseModel):
    """What reelforge did with a Stripe event. Every verified event is answered 200, so Stripe
    stops retrying: ``outcome`` says whether credits were added, and why not."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {"event_id": "evt_1Q2w3E4r5T6y7U8i", "outcome": "credited", "duplicate": False}
            ]
        },
    )

    event_id: str = Field(description="Stripe's event id")
    outcome: BillingOutcome = Field(
        description=(
            "credited; already_credited (another event of the same Checkout Session did); "
            "unknown_user (client_reference_id names no user: recorded, nothing credited); "
            "not_paid (payment_status unpaid: an async payment may follow); invalid (no "
            "usable metadata.credits); ignored (an event type reelforge does not act on)"
        )
    )
    duplicate: bool = Field(description="true if this event id was already received")

"""Stripe's webhook: ``POST /v1/billing/stripe/webhook``, authenticated by Stripe's signature
(``Stripe-Signature``, checked with STRIPE_WEBHOOK_SECRET by the official library) instead of a
user token. What a purchase is and how it is credited once: pipeline/api/billing.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pipeline.api import billing
from pipeline.api.billing_models import StripeWebhookOut
from pipeline.api.deps import ReposDep, SettingsDep
from pipeline.api.errors import problem_responses

router = APIRouter(prefix="/v1/billing", tags=["billing"])


@router.post(
    "/stripe/webhook",
    summary="Receive Stripe's signed events (credit purchases)",
    description=(
        "Point a Stripe webhook endpoint here with the events `checkout.session.completed` and "
        "`checkout.session.async_payment_succeeded`. A paid Checkout Session with "
        "`client_reference_id` = the user's id and `metadata.credits` = the credits bought adds "
        "them once per event and once per session. Every verified event is answered 200 with "
        "what was done (other types: `ignored`); a missing or wrong signature, or one older than "
        "5 minutes, is a 400 and changes nothing. Off (404) while STRIPE_WEBHOOK_SECRET is unset."
    ),
    responses=problem_responses(400, 404, 413),
)
async def stripe_webhook(
    request: Request,
    settings: SettingsDep,
    repos: ReposDep,
    signature: Annotated[
        str | None, Header(alias="Stripe-Signature", description="t=<time>,v1=<signature>")
    ] = None,
) -> StripeWebhookOut:
    secret = settings.billing.stripe_webhook_secret
    if secret is None:
        raise HTTPException(404, "Stripe billing is off: STRIPE_WEBHOOK_SECRET is not set")
    body = await request.body()
    try:
        event = billing.verify_event(body, signature, secret.get_secret_value().strip())
        # The database work is blocking: off the event loop, like FastAPI's sync routes.
        return await run_in_threadpool(lambda: billing.handle_event(repos=repos, event=event))
    except billing.StripeRejected as exc:
        raise HTTPException(400, str(exc)) from None

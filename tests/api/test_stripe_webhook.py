"""Stripe's webhook: events signed exactly as Stripe signs them (checked against the stripe
library's own signer), in the shape Stripe documents, credit a paid Checkout Session once per
event and once per session; tampered, stale or unsigned requests change nothing. Every scenario
runs on PostgreSQL and on the in-memory repositories."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import httpx
import pytest
import stripe

from pipeline.api.app import create_app
from pipeline.settings import BillingSettings, Settings
from pipeline.store import Repositories, Store
from pipeline.store.memory import MemoryRepositories
from tests.api.conftest import ApiClient

URL = "/v1/billing/stripe/webhook"
SECRET = "whsec_" + secrets.token_hex(24)


@dataclass
class Shop:
    """An app with Stripe billing on, its repositories, and a way to make buyers."""

    client: ApiClient
    repos: Repositories
    new_user: Callable[[], uuid.UUID]


def _billing(settings: Settings, secret: str | None = SECRET) -> Settings:
    billing = BillingSettings(stripe_webhook_secret=secret)
    return settings.model_copy(update={"billing": billing})


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.integration), "memory"])
def shop(request: pytest.FixtureRequest, settings: Settings) -> Shop:
    if request.param == "memory":
        memory: MemoryRepositories = request.getfixturevalue("memory_repos")
        app = create_app(settings=_billing(settings), repositories=memory)
        return Shop(ApiClient(app), memory, memory.add_user)
    store: Store = request.getfixturevalue("store")
    app = create_app(settings=_billing(settings), store=store)
    return Shop(ApiClient(app), Repositories.postgres(store), request.getfixturevalue("make_user"))


def checkout_event(
    event_id: str,
    user: uuid.UUID | str | None,
    *,
    event_type: str = "checkout.session.completed",
    session_id: str = "cs_test_a1B2c3D4e5F6g7H8i9J0",
    credits: str | None = "500",
    payment_status: str = "paid",
    mode: str = "payment",
) -> dict[str, Any]:
    """A Checkout Session event in the shape of Stripe's API reference (2025 API version)."""
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": 1900,
        "amount_total": 1900,
        "cancel_url": "https://app.example.com/credits",
        "client_reference_id": None if user is None else str(user),
        "currency": "usd",
        "customer": "cus_R2d2C3p0",
        "customer_details": {"email": "buyer@example.com", "name": "Ada Buyer"},
        "livemode": False,
        "metadata": {} if credits is None else {"credits": credits},
        "mode": mode,
        "payment_intent": "pi_3Q1w2E3r4T5y6U7i",
        "payment_status": payment_status,
        "status": "complete",
        "success_url": "https://app.example.com/credits?paid=1",
    }
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "data": {"object": session},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def signed(
    event: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers as Stripe sends them: ``Stripe-Signature: t=<t>,v1=<hex HMAC-SHA256
    of "<t>.<body>" keyed with the whole whsec_ secret>``."""
    body = json.dumps(event, indent=2).encode()
    t = timestamp if timestamp is not None else int(time.time())
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, sha256).hexdigest()
    header = f"t={t},v1={v1}"
    # Our reading of the scheme is Stripe's: its library signs the same bytes the same way.
    assert header == stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=t
    )
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def post(shop: Shop, event: dict[str, Any], **signing: Any) -> httpx.Response:
    body, headers = signed(event, **signing)
    return shop.client.post(URL, content=body, headers=headers)


def _balance(shop: Shop, user: uuid.UUID) -> int:
    return shop.repos.credits.balance(user_id=user)


def test_a_paid_checkout_credits_its_buyer(shop: Shop) -> None:
    buyer = shop.new_user()

    response = post(shop, checkout_event("evt_paid_1", buyer))

    assert response.status_code == 200, response.text
    assert response.json() == {"event_id": "evt_paid_1", "outcome": "credited", "duplicate": False}
    assert _balance(shop, buyer) == 500
    (entry,) = shop.repos.credits.ledger(user_id=buyer, before=None, limit=10)
    assert (entry.delta, entry.reason) == (500, "purchase")
    (event,) = shop.repos.billing.events()
    assert (event.checkout_session, event.credits, event.amount_total, event.currency) == (
        "cs_test_a1B2c3D4e5F6g7H8i9J0", 500, 1900, "usd",
    )  # fmt: skip
    assert event.ledger_id == entry.id


def test_the_same_event_five_times_in_parallel_credits_once(shop: Shop) -> None:
    buyer = shop.new_user()
    body, headers = signed(checkout_event("evt_replayed", buyer))

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(
            pool.map(lambda _: shop.client.post(URL, content=body, headers=headers), range(5))
        )

    assert [r.status_code for r in responses] == [200] * 5
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 4
    assert {r.json()["outcome"] for r in responses} == {"credited"}
    assert _balance(shop, buyer) == 500
    assert len(shop.repos.credits.ledger(user_id=buyer, before=None, limit=10)) == 1
    assert len(shop.repos.billing.events()) == 1


def test_two_events_of_one_session_credit_it_once(shop: Shop) -> None:
    buyer = shop.new_user()

    completed = post(shop, checkout_event("evt_s1", buyer))
    succeeded = post(
        shop,
        checkout_event("evt_s2", buyer, event_type="checkout.session.async_payment_succeeded"),
    )

    assert (completed.json()["outcome"], succeeded.json()["outcome"]) == (
        "credited",
        "already_credited",
    )
    assert _balance(shop, buyer) == 500


def test_a_delayed_payment_is_credited_when_it_succeeds(shop: Shop) -> None:
    buyer = shop.new_user()

    pending = post(shop, checkout_event("evt_d1", buyer, payment_status="unpaid"))
    assert pending.json()["outcome"] == "not_paid"
    assert _balance(shop, buyer) == 0
    paid = post(
        shop,
        checkout_event(
            "evt_d2", buyer, event_type="checkout.session.async_payment_succeeded",
            payment_status="paid",
        ),
    )  # fmt: skip

    assert paid.json()["outcome"] == "credited"
    assert _balance(shop, buyer) == 500


@pytest.mark.parametrize(
    ("payment_status", "mode", "outcome"),
    [
        ("no_payment_required", "payment", "credited"),  # a 100% discount: bought all the same
        ("no_payment_required", "setup", "not_paid"),  # a card saved, nothing bought
        ("no_payment_required", "subscription", "not_paid"),  # a free trial
        ("unpaid", "payment", "not_paid"),
    ],
)
def test_only_a_paid_or_fully_discounted_purchase_is_credited(
    shop: Shop, payment_status: str, mode: str, outcome: str
) -> None:
    buyer = shop.new_user()

    response = post(
        shop, checkout_event("evt_status", buyer, payment_status=payment_status, mode=mode)
    )

    assert response.json()["outcome"] == outcome
    assert _balance(shop, buyer) == (500 if outcome == "credited" else 0)


def _rejections(buyer: uuid.UUID) -> list[tuple[str, bytes, dict[str, str]]]:
    event = checkout_event("evt_bad", buyer)
    body, headers = signed(event)
    stale_body, stale = signed(event, timestamp=int(time.time()) - 301)
    _, other = signed(event, secret="whsec_" + secrets.token_hex(24))
    tampered = body.replace(b'"credits": "500"', b'"credits": "50000"')
    assert tampered != body
    return [
        ("tampered body", tampered, headers),
        ("no signature", body, {"Content-Type": "application/json"}),
        ("another secret", body, other),
        ("301 s old", stale_body, stale),
        ("malformed header", body, {"Stripe-Signature": "v1=abc"}),
        ("another scheme only", body, {"Stripe-Signature": headers["Stripe-Signature"].replace("v1=", "v0=")}),
    ]  # fmt: skip


def test_tampered_stale_or_unsigned_requests_are_400_and_change_nothing(shop: Shop) -> None:
    buyer = shop.new_user()

    for case, body, headers in _rejections(buyer):
        response = shop.client.post(URL, content=body, headers=headers)
        assert response.status_code == 400, case
        assert response.headers["content-type"] == "application/problem+json", case
        assert "Stripe signature does not verify" in response.json()["detail"], case

    assert _balance(shop, buyer) == 0
    assert shop.repos.billing.events() == []


@pytest.mark.parametrize("body", ["not json", "[]", "42", "null", '"evt"'])
def test_a_signed_body_that_is_not_a_json_object_is_400(shop: Shop, body: str) -> None:
    t = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET, timestamp=t)

    response = shop.client.post(URL, content=body.encode(), headers={"Stripe-Signature": header})

    assert (response.status_code, response.json()["detail"]) == (
        400,
        "the body is not a JSON event",
    )
    assert shop.repos.billing.events() == []


def test_an_event_for_an_unknown_user_is_recorded_answered_200_and_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = uuid.uuid4()

    with caplog.at_level(logging.WARNING, logger="pipeline.api.billing"):
        response = post(shop, checkout_event("evt_nobody", stranger))
        again = post(shop, checkout_event("evt_nobody", stranger))

    assert response.status_code == 200
    assert response.json() == {
        "event_id": "evt_nobody",
        "outcome": "unknown_user",
        "duplicate": False,
    }
    assert again.json()["duplicate"] is True
    (warning,) = [r.getMessage() for r in caplog.records]  # the duplicate logs no warning
    assert "evt_nobody" in warning and f"no user {stranger}" in warning
    (event,) = shop.repos.billing.events()
    assert (event.client_reference_id, event.credits, event.ledger_id) == (str(stranger), 500, None)
    assert _balance(shop, stranger) == 0


@pytest.mark.parametrize("credits", [None, "0", "12.5", "-5", "1000000001", "lots"])
def test_a_session_without_usable_credits_is_recorded_as_invalid(
    shop: Shop, credits: str | None
) -> None:
    buyer = shop.new_user()

    response = post(shop, checkout_event("evt_invalid", buyer, credits=credits))

    assert (response.status_code, response.json()["outcome"]) == (200, "invalid")
    (event,) = shop.repos.billing.events()
    assert event.detail is not None and "metadata.credits" in event.detail
    assert _balance(shop, buyer) == 0


def test_other_event_types_are_ignored_with_200(shop: Shop) -> None:
    buyer = shop.new_user()
    event = checkout_event("evt_other", buyer, event_type="checkout.session.expired")

    response = post(shop, event)

    assert response.json() == {"event_id": "evt_other", "outcome": "ignored", "duplicate": False}
    assert _balance(shop, buyer) == 0


def test_without_a_webhook_secret_the_route_is_off(settings: Settings) -> None:
    client = ApiClient(create_app(settings=settings, repositories=MemoryRepositories()))
    body, headers = signed(checkout_event("evt_off", uuid.uuid4()))

    response = client.post(URL, content=body, headers=headers)

    assert response.status_code == 404
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["detail"]

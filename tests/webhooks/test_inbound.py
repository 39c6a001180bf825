"""Inbound verification rejects every case of the matrix; a provider event is recorded once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from pipeline.store import Store
from pipeline.store.providers import ProviderEvents
from pipeline.webhooks import (
    WebhookRejected,
    generate_secret,
    verify_inbound,
    webhook_headers,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET = generate_secret()
BODY = b'{"type":"payment.succeeded","id":"evt_1"}'


def _headers(*, secret: str = SECRET, at: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return webhook_headers(
        secrets=[secret], msg_id="evt_1", timestamp=int(at.timestamp()), body=body
    )


def test_a_valid_request_is_accepted_within_the_tolerance_either_way() -> None:
    verify_inbound(SECRET, _headers(), BODY, now=NOW)
    verify_inbound(SECRET, _headers(at=NOW - timedelta(seconds=300)), BODY, now=NOW)
    verify_inbound(SECRET, _headers(at=NOW + timedelta(seconds=300)), BODY, now=NOW)
    upper = {k.title(): v for k, v in _headers().items()}
    verify_inbound(SECRET, upper, BODY, now=NOW)


def _without(name: str) -> dict[str, str]:
    headers = _headers()
    del headers[name]
    return headers


def _with(name: str, value: str) -> dict[str, str]:
    return {**_headers(), name: value}


REJECTIONS: dict[str, tuple[dict[str, str], bytes, str]] = {
    "missing id": (_without("webhook-id"), BODY, "missing webhook-id"),
    "missing timestamp": (_without("webhook-timestamp"), BODY, "missing webhook-timestamp"),
    "missing signature": (_without("webhook-signature"), BODY, "missing webhook-signature"),
    "bad signature": (_with("webhook-signature", "v1,AAAA"), BODY, "no matching signature"),
    "garbage signature": (_with("webhook-signature", "v1,@@@ nonsense"), BODY, "no matching"),
    "other version": (
        _with("webhook-signature", _headers()["webhook-signature"].replace("v1,", "v2,")),
        BODY,
        "no matching",
    ),
    "malformed timestamp": (_with("webhook-timestamp", "12e4"), BODY, "malformed"),
    "negative timestamp": (_with("webhook-timestamp", "-5"), BODY, "malformed"),
    "301 s old": (_headers(at=NOW - timedelta(seconds=301)), BODY, "301 s old"),
    "301 s in the future": (_headers(at=NOW + timedelta(seconds=301)), BODY, "301 s in the future"),
    "wrong secret": (_headers(secret=generate_secret()), BODY, "no matching signature"),
    "altered body": (_headers(), BODY.replace(b"evt_1", b"evt_2"), "no matching signature"),
    "altered id": (_with("webhook-id", "evt_2"), BODY, "no matching signature"),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_the_rejection_matrix_rejects_every_case(case: str) -> None:
    headers, body, reason = REJECTIONS[case]
    with pytest.raises(WebhookRejected, match=reason) as caught:
        verify_inbound(SECRET, headers, body, now=NOW)
    assert caught.value.reason


@pytest.mark.integration
def test_a_replayed_event_is_verified_but_recorded_only_once(store: Store) -> None:
    verify_inbound(SECRET, _headers(), BODY, now=NOW)
    assert ProviderEvents(store).record(provider="stripe", event_id="evt_1", payload={"n": 1})
    verify_inbound(SECRET, _headers(), BODY, now=NOW)
    assert not ProviderEvents(store).record(provider="stripe", event_id="evt_1", payload={"n": 1})
    # The same id from another provider is a different event.
    assert ProviderEvents(store).record(provider="other", event_id="evt_1", payload={})


@pytest.mark.integration
def test_the_same_event_five_times_in_parallel_is_recorded_once(
    store: Store, admin: psycopg.Connection[Any]
) -> None:
    barrier = threading.Barrier(5)

    def deliver(_: int) -> bool:
        barrier.wait(timeout=10)
        return ProviderEvents(store).record(
            provider="stripe", event_id="evt_par", payload={"amount": 100}
        )

    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(deliver, range(5)))

    assert sorted(results) == [False, False, False, False, True]
    count = admin.execute(
        "select count(*) from public.provider_events where event_id = 'evt_par'"
    ).fetchone()
    assert count == (1,)


@pytest.mark.integration
def test_recording_in_a_rolled_back_transaction_leaves_the_event_unseen(store: Store) -> None:
    class HandlerFailed(Exception):
        pass

    def handle() -> None:
        with store.as_service() as conn:
            assert ProviderEvents(store).record(
                provider="stripe", event_id="evt_rb", payload={}, conn=conn
            )
            raise HandlerFailed

    with pytest.raises(HandlerFailed):
        handle()
    assert ProviderEvents(store).record(provider="stripe", event_id="evt_rb", payload={})
    assert ProviderEvents(store).mark_processed(provider="stripe", event_id="evt_rb")
    assert not ProviderEvents(store).mark_processed(provider="stripe", event_id="evt_rb")

"""The dispatcher against a real local receiver and MockTransport: signed deliveries, retries with
the same webhook-id on the schedule, 3xx not followed, 410 and repeated failure disabling."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from pipeline.store import Store
from pipeline.store.webhooks import Webhooks
from pipeline.webhooks import (
    DeliveryStatus,
    Dispatcher,
    FakeClock,
    RetryPolicy,
    generate_secret,
    verify_inbound,
)
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as opened:
        yield opened


def _enqueue(store: Store, user: uuid.UUID, event_type: str = "job.delivered") -> None:
    with store.as_service() as conn:
        Webhooks(store).enqueue(
            conn=conn, user_id=user, event_type=event_type, payload={"job": "j1"}
        )


def test_a_delivery_is_signed_and_verified_by_the_official_library(
    store: Store, user_a: uuid.UUID, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url=receiver.url
    )
    receiver.secrets = [endpoint.secret.get_secret_value()]
    _enqueue(store, user_a)

    attempts = Dispatcher(Webhooks(store), client, FakeClock()).run_once()

    assert [a.status for a in attempts] == [DeliveryStatus.DELIVERED]
    [got] = receiver.received
    assert got.verified
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == attempts[0].webhook_id
    assert b'"type":"job.delivered"' in got.body
    [delivery] = Webhooks(store).deliveries(user_id=user_a)
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 200)


def test_after_rotation_the_receiver_verifies_with_either_secret(
    store: Store, user_a: uuid.UUID, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url=receiver.url
    )
    rotated = Webhooks(store).rotate_secret(
        secret=generate_secret(), user_id=user_a, endpoint_id=endpoint.id
    )
    _enqueue(store, user_a)
    _enqueue(store, user_a)
    dispatcher = Dispatcher(Webhooks(store), client, FakeClock())

    receiver.secrets = [endpoint.secret.get_secret_value()]
    dispatcher.run_once(limit=1)
    receiver.secrets = [rotated.secret.get_secret_value()]
    dispatcher.run_once(limit=1)

    assert [r.verified for r in receiver.received] == [True, True]
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2


def test_a_500_is_retried_on_schedule_with_the_same_webhook_id(
    store: Store, user_a: uuid.UUID, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url=receiver.url
    )
    receiver.secrets = [endpoint.secret.get_secret_value()]
    receiver.script = [(500, {})]
    _enqueue(store, user_a)
    clock = FakeClock()
    dispatcher = Dispatcher(Webhooks(store), client, clock, rng=random.Random(3))
    failed_at = clock.now()

    first = dispatcher.run_once()
    [pending] = Webhooks(store).deliveries(user_id=user_a)
    wait = (pending.next_attempt_at - failed_at).total_seconds()
    assert [a.status for a in first] == [DeliveryStatus.PENDING]
    assert (pending.attempts, pending.last_status_code, pending.last_error) == (1, 500, "HTTP 500")
    assert 4.0 <= wait <= 6.0 and not 4.5 < wait < 5.5  # 5 s moved by 10-20%
    assert dispatcher.run_once() == []  # not due yet

    clock.advance(timedelta(seconds=wait - 0.01))
    assert dispatcher.run_once() == []
    clock.advance(timedelta(seconds=0.02))
    second = dispatcher.run_once()

    assert [a.status for a in second] == [DeliveryStatus.DELIVERED]
    assert [r.verified for r in receiver.received] == [True, True]
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {first[0].webhook_id}
    [done] = Webhooks(store).deliveries(user_id=user_a)
    assert (done.status, done.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_a_redirect_is_a_failure_and_is_not_followed(
    store: Store, user_a: uuid.UUID, receiver: Receiver, client: httpx.Client
) -> None:
    Webhooks(store).create_endpoint(secret=generate_secret(), user_id=user_a, url=receiver.url)
    receiver.script = [(302, {"location": "/elsewhere"})]
    _enqueue(store, user_a)
    redirecting = httpx.Client(trust_env=False, follow_redirects=True)

    with redirecting:
        [attempt] = Dispatcher(Webhooks(store), redirecting, FakeClock()).run_once()

    assert [r.path for r in receiver.received] == ["/hooks"]
    assert (attempt.status, attempt.status_code) == (DeliveryStatus.PENDING, 302)
    assert attempt.error is not None and "redirect" in attempt.error


def test_410_gone_disables_the_endpoint_at_once(
    store: Store, user_a: uuid.UUID, receiver: Receiver, client: httpx.Client
) -> None:
    Webhooks(store).create_endpoint(secret=generate_secret(), user_id=user_a, url=receiver.url)
    receiver.script = [(410, {})]
    _enqueue(store, user_a)
    _enqueue(store, user_a)

    attempts = Dispatcher(Webhooks(store), client, FakeClock()).run_once()

    assert [a.status for a in attempts] == [DeliveryStatus.FAILED]
    [endpoint] = Webhooks(store).endpoints(user_id=user_a)
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "the endpoint answered 410 Gone"
    assert endpoint.disabled_at is not None
    statuses = sorted(d.status for d in Webhooks(store).deliveries(user_id=user_a))
    assert statuses == [DeliveryStatus.DEAD, DeliveryStatus.FAILED]
    _enqueue(store, user_a)  # a disabled endpoint gets no new deliveries
    assert len(Webhooks(store).deliveries(user_id=user_a)) == 2


def test_deliveries_failing_through_the_whole_schedule_disable_the_endpoint(
    store: Store, user_a: uuid.UUID
) -> None:
    requests: list[httpx.Request] = []
    sent_at: list[datetime] = []

    def always_down(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        sent_at.append(clock.now())
        return httpx.Response(503)

    endpoint = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://down.example/hook"
    )
    for _ in range(5):
        _enqueue(store, user_a)
    clock = FakeClock()
    with httpx.Client(transport=httpx.MockTransport(always_down)) as client:
        dispatcher = Dispatcher(Webhooks(store), client, clock)
        for _ in range(12):
            dispatcher.run_once()
            clock.advance(timedelta(hours=30))

    assert len(requests) == 5 * 10
    secret = endpoint.secret.get_secret_value()
    for request, at in zip(requests, sent_at, strict=True):
        verify_inbound(secret, dict(request.headers), request.content, now=at)
    assert requests[0].extensions["timeout"] == {
        "connect": 15.0,
        "read": 15.0,
        "write": 15.0,
        "pool": 15.0,
    }
    [disabled] = Webhooks(store).endpoints(user_id=user_a)
    assert not disabled.enabled
    assert disabled.disabled_reason is not None
    assert disabled.disabled_reason.startswith("5 deliveries in a row failed after 10 attempts")
    assert {(d.status, d.attempts) for d in Webhooks(store).deliveries(user_id=user_a)} == {
        (DeliveryStatus.FAILED, 10)
    }


def test_a_success_resets_the_failed_delivery_count(store: Store, user_a: uuid.UUID) -> None:
    answers = iter([httpx.Response(500), httpx.Response(200), httpx.Response(500)])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://flaky.example/hook"
    )
    policy = RetryPolicy(schedule=(0,), disable_after=2)
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        clock = FakeClock()
        dispatcher = Dispatcher(Webhooks(store), client, clock, policy=policy)
        for _ in range(3):
            _enqueue(store, user_a)
            clock.advance(timedelta(seconds=1))
            dispatcher.run_once()

    [endpoint] = Webhooks(store).endpoints(user_id=user_a)
    assert (endpoint.enabled, endpoint.failed_deliveries_in_row) == (True, 1)


def test_timeouts_and_refused_connections_are_failures(
    store: Store, user_a: uuid.UUID, client: httpx.Client
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    Webhooks(store).create_endpoint(
        secret=generate_secret(),
        user_id=user_a,
        url="https://slow.example/hook",
        events=["job.delivered"],
    )
    _enqueue(store, user_a)
    with httpx.Client(transport=httpx.MockTransport(slow)) as mock:
        [timed_out] = Dispatcher(Webhooks(store), mock, FakeClock()).run_once()
    assert (timed_out.status, timed_out.error) == (DeliveryStatus.PENDING, "timed out after 15 s")

    with running_receiver() as closed:
        url = closed.url  # the port is free again once the server is shut down
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url=url, events=["other.event"]
    )
    _enqueue(store, user_a, "other.event")
    attempts = Dispatcher(Webhooks(store), client, FakeClock()).run_once()
    assert [a.status for a in attempts] == [DeliveryStatus.PENDING]
    assert attempts[0].error is not None and "ConnectError" in attempts[0].error
